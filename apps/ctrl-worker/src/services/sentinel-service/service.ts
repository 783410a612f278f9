import * as restate from "@restatedev/restate-sdk";
import { sentinelServiceName } from "../../contract.js";
import type { WorkerDeps } from "../../deps.js";
import { resolveSettings } from "../../settings.js";
import type { SentinelRolloutServiceApi } from "../sentinel-rollout-service/api.js";
import { sentinelRolloutServiceName, singletonKey } from "../sentinel-rollout-service/api.js";
import type { SentinelDeployRequest, SentinelDeployResult, SentinelRolloutStepRequest } from "./api.js";
import { deploySentinel } from "./deploy.js";

/**
 * SentinelService — virtual object, key = sentinel id; ingress-private (internal callers only).
 * Exclusive per sentinel, so two deploys of one sentinel never interleave: a rollback queued
 * behind a forward deploy runs after it. See api.ts for the contract.
 */
export function createSentinelService(deps: WorkerDeps) {
  const settings = resolveSettings(deps.settings);
  const deployDeps = { db: deps.db, timeoutMs: settings.sentinelDeployTimeoutMs };
  return restate.object({
    name: sentinelServiceName,
    handlers: {
      /** Deploys `image` on this sentinel and waits for the agent's healthy report (bounded). */
      deploy: (ctx: restate.ObjectContext, req: SentinelDeployRequest): Promise<SentinelDeployResult> =>
        deploySentinel(ctx, deployDeps, req),
      /**
       * A deploy on behalf of the fleet rollout: the result goes back to the rollout as a one-way
       * call, journaled, so it is delivered exactly once even if this worker dies in between.
       */
      rolloutStep: async (ctx: restate.ObjectContext, req: SentinelRolloutStepRequest): Promise<void> => {
        let result: SentinelDeployResult;
        try {
          result = await deploySentinel(ctx, deployDeps, { image: req.image });
        } catch (err) {
          // A terminal error would leave the rollout waiting for this target forever: report it as a failure.
          if (!(err instanceof restate.TerminalError) || err instanceof restate.CancelledError) throw err;
          result = { ok: false, image: req.image, previousImage: "", reason: "invalid_image", message: err.message };
        }
        ctx.objectSendClient<SentinelRolloutServiceApi>({ name: sentinelRolloutServiceName }, singletonKey).onStepFinished({
          rolloutId: req.rolloutId,
          sentinelId: ctx.key,
          step: req.step,
          mode: req.mode,
          result,
        });
      },
    },
    options: {
      ingressPrivate: true,
      // The wait is a suspension, not activity; the handler is short otherwise.
      retryPolicy: { maxAttempts: 1000, initialInterval: 200, maxInterval: 10_000 },
    },
  });
}
