import { armSentinelDeploy, findSentinel, finishSentinelDeploy, type Db } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import { versioningServiceName } from "../../contract.js";
import { terminal } from "../../errors.js";
import type { VersioningServiceApi } from "../versioning-service/api.js";
import { parseSentinelFailure, type SentinelDeployRequest, type SentinelDeployResult, type SentinelReportOutcome } from "./api.js";
import { imageRefProblem } from "./image-ref.js";

/** What one deploy needs. */
export interface SentinelDeployDeps {
  db: Db;
  /** Upper bound of the wait for the agent's healthy report. */
  timeoutMs: number;
}

/** The sentinel columns the deploy reads. */
interface SentinelView {
  region: string;
  image: string;
  desiredState: string;
  healthyOn: string | null;
  failure: { reason: string; image: string } | null;
}

async function load(db: Db, sentinelId: string): Promise<SentinelView | null> {
  const row = await findSentinel(db, sentinelId);
  if (!row) return null;
  const converged = row.health === "healthy" && row.available_replicas >= row.desired_replicas && row.running_image;
  return {
    region: row.region,
    image: row.image,
    desiredState: row.desired_state,
    healthyOn: converged ? row.running_image : null,
    failure: row.failure_reason && row.failure_image ? { reason: row.failure_reason, image: row.failure_image } : null,
  };
}

/**
 * SentinelService.deploy (key = sentinel id): see api.ts. Steps: load → (unchanged? return) →
 * arm the awakeable on the row → commit the image through VersioningService → look for a report
 * that came first → wait (bounded) → record `ready`/`failed` on the row.
 */
export async function deploySentinel(
  ctx: restate.ObjectContext,
  deps: SentinelDeployDeps,
  req: SentinelDeployRequest,
): Promise<SentinelDeployResult> {
  const problem = imageRefProblem(req?.image);
  if (problem) throw terminal("invalid_argument", problem);
  const sentinelId = ctx.key;
  const image = req.image;
  const before = await ctx.run("load sentinel", () => load(deps.db, sentinelId));
  if (!before) return { ok: false, image, previousImage: "", reason: "not_found", message: `sentinel ${sentinelId} does not exist` };
  if (before.desiredState === "archived")
    return { ok: false, image, previousImage: before.image, reason: "archived", message: `sentinel ${sentinelId} is archived` };
  // The image it replaces, kept in the object for whoever inspects it (the rollout captures its own at start).
  ctx.set("previousImage", before.image);
  if (before.image === image && before.healthyOn === image) return { ok: true, image, previousImage: before.image, unchanged: true };

  const awakeable = ctx.awakeable<SentinelReportOutcome>();
  const armedAt = await ctx.date.now();
  await ctx.run("arm deploy", () => armSentinelDeploy(deps.db, sentinelId, awakeable.id, image, armedAt));
  await ctx.objectClient<VersioningServiceApi>({ name: versioningServiceName }, before.region).commitSentinel({ sentinelId, image });

  // A retried deploy of an image the agent already runs (or already rejected) gets no new report.
  const early = await ctx.run("check reported state", async (): Promise<SentinelReportOutcome | null> => {
    const now = await load(deps.db, sentinelId);
    if (now?.healthyOn === image) return { ok: true };
    if (now?.failure?.image === image) return { ok: false, ...parseSentinelFailure(now.failure.reason) };
    return null;
  });
  let outcome: SentinelReportOutcome;
  if (early) outcome = early;
  else {
    try {
      outcome = await awakeable.promise.orTimeout(deps.timeoutMs);
    } catch (err) {
      if (!(err instanceof restate.TimeoutError)) throw err;
      outcome = { ok: false, reason: "health_timeout", message: `no healthy report of ${image} within ${deps.timeoutMs} ms` };
    }
  }
  const endedAt = await ctx.date.now();
  await ctx.run("finish deploy", () => finishSentinelDeploy(deps.db, sentinelId, awakeable.id, outcome.ok ? "ready" : "failed", endedAt));
  ctx.console.info({ sentinelId, image, ok: outcome.ok }, "sentinel deploy finished");
  return outcome.ok
    ? { ok: true, image, previousImage: before.image, unchanged: false }
    : { ...outcome, image, previousImage: before.image };
}
