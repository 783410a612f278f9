import * as restate from "@restatedev/restate-sdk";
import { sentinelRolloutServiceName } from "../../contract.js";
import type { WorkerDeps } from "../../deps.js";
import type { ResumeRequest, RollbackAllResult, RolloutRequest, RolloutState, StepFinished } from "./api.js";
import { cancelRollout, onStepFinished, pauseRollout, resume, rollbackAll } from "./controls.js";
import { startRollout } from "./rollout.js";
import { requireSingleton, stateKey } from "./transition.js";

/**
 * SentinelRolloutService — virtual object, key = `singleton` (any other key: invalid_argument).
 * Public (ctrl-api calls it through the ingress) except `onStepFinished`, which only
 * SentinelService sends. See api.ts for the contract and plan.ts for the rules.
 */
export function createSentinelRolloutService(deps: WorkerDeps) {
  const { db } = deps;
  return restate.object({
    name: sentinelRolloutServiceName,
    handlers: {
      rollout: (ctx: restate.ObjectContext, req: RolloutRequest): Promise<RolloutState> => startRollout(ctx, db, req),
      pause: (ctx: restate.ObjectContext): Promise<RolloutState> => pauseRollout(ctx, db),
      resume: (ctx: restate.ObjectContext, req: ResumeRequest | undefined): Promise<RolloutState> => resume(ctx, db, req),
      cancel: (ctx: restate.ObjectContext): Promise<RolloutState> => cancelRollout(ctx, db),
      rollbackAll: (ctx: restate.ObjectContext): Promise<RollbackAllResult> => rollbackAll(ctx, db),
      /** The whole state, or null when no rollout was ever started. Shared: never waits behind a step. */
      status: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext): Promise<RolloutState | null> => {
        requireSingleton(ctx);
        return (await ctx.get<RolloutState>(stateKey)) ?? null;
      }),
      onStepFinished: restate.handlers.object.exclusive(
        { ingressPrivate: true },
        (ctx: restate.ObjectContext, msg: StepFinished): Promise<void> => onStepFinished(ctx, db, msg),
      ),
    },
    // Public: ctrl-api calls it (every handler checks the singleton key and its input; onStepFinished is private).
    options: { ingressPrivate: false, retryPolicy: { maxAttempts: 1000, initialInterval: 200, maxInterval: 10_000 } },
  });
}
