import type { createSentinelService } from "./service.js";

/**
 * Contract of `SentinelService` (virtual object, key = sentinel id; ingress-private: only the
 * rollout service and other worker services call it).
 *
 *   const result = await ctx.objectClient<SentinelServiceApi>({ name: sentinelServiceName }, sentinelId).deploy({ image });
 *
 * `deploy` records the image it replaces, commits the new desired image through
 * `VersioningService` (a new version, so the region's agent sees it) and waits — on an awakeable
 * that ctrl-api resolves when the agent reports the sentinel healthy on that image, bounded by
 * `SENTINEL_DEPLOY_TIMEOUT_MS` — then returns the outcome. It never throws for a failed deploy:
 * failures are values (`{ ok: false, reason }`), so a wave can count them. Deploying the image the
 * sentinel already runs healthy returns at once with `unchanged: true`.
 */
export { sentinelServiceName } from "../../contract.js";

/** Input of `deploy`. */
export interface SentinelDeployRequest {
  image: string;
}

/** Why a sentinel deploy failed. */
export type SentinelDeployFailureReason =
  | "image_pull_failed"
  | "invalid_manifest"
  | "start_failed"
  | "health_timeout"
  | "not_found"
  | "archived"
  | "invalid_image";

/** Outcome of `deploy`. */
export type SentinelDeployResult =
  | { ok: true; image: string; previousImage: string; unchanged: boolean }
  | { ok: false; image: string; previousImage: string; reason: SentinelDeployFailureReason; message: string; exitCode?: number };

/** What ctrl-api resolves the deploy's awakeable with (from the agent's report). */
export type SentinelReportOutcome = { ok: true } | { ok: false; reason: SentinelDeployFailureReason; message: string; exitCode?: number };

/** Input of `rolloutStep`: a deploy on behalf of the fleet rollout, whose result is sent back to it. */
export interface SentinelRolloutStepRequest {
  rolloutId: string;
  /** The target's dispatch counter; a result for an older step is ignored by the rollout. */
  step: number;
  mode: "forward" | "revert";
  image: string;
}

/** Type-only handle of the service definition. */
export type SentinelServiceApi = ReturnType<typeof createSentinelService>;

export { parseSentinelFailure } from "@ctrl/db";
