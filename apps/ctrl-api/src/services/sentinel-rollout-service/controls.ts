import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type {
  CancelResponseSchema,
  PauseResponseSchema,
  ResumeRequest,
  ResumeResponseSchema,
  RollbackAllResponseSchema,
} from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { requireOperator } from "./access.js";
import { rolloutMessage } from "./view.js";
import { callRolloutService } from "./worker-calls.js";

// Pause, Resume, Cancel, RollbackAll: each one call of the worker's rollout object, whose
// failed_precondition (naming the state and what is legal) reaches the caller as is.

/** SentinelRolloutService.Pause. */
export async function pause(deps: ApiDeps, ctx: HandlerContext): Promise<MessageInitShape<typeof PauseResponseSchema>> {
  const who = requireOperator(ctx);
  const s = await callRolloutService(deps, "pausing the fleet rollout", (c, opts) => c.pause(opts), ctx.signal);
  deps.logger.info({ rolloutId: s.id, who }, "fleet rollout paused");
  return { rollout: rolloutMessage(s) };
}

/** SentinelRolloutService.Resume. */
export async function resume(
  deps: ApiDeps,
  req: ResumeRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof ResumeResponseSchema>> {
  const who = requireOperator(ctx);
  const s = await callRolloutService(
    deps,
    "resuming the fleet rollout",
    (c, opts) => c.resume({ retryFailed: req.retryFailed }, opts),
    ctx.signal,
  );
  deps.logger.info({ rolloutId: s.id, who, retryFailed: req.retryFailed }, "fleet rollout resumed");
  return { rollout: rolloutMessage(s) };
}

/** SentinelRolloutService.Cancel. */
export async function cancel(deps: ApiDeps, ctx: HandlerContext): Promise<MessageInitShape<typeof CancelResponseSchema>> {
  const who = requireOperator(ctx);
  const s = await callRolloutService(deps, "cancelling the fleet rollout", (c, opts) => c.cancel(opts), ctx.signal);
  deps.logger.info({ rolloutId: s.id, who }, "fleet rollout cancelled");
  return { rollout: rolloutMessage(s) };
}

/** SentinelRolloutService.RollbackAll. */
export async function rollbackAll(deps: ApiDeps, ctx: HandlerContext): Promise<MessageInitShape<typeof RollbackAllResponseSchema>> {
  const who = requireOperator(ctx);
  const r = await callRolloutService(deps, "rolling back the fleet rollout", (c, opts) => c.rollbackAll(opts), ctx.signal);
  deps.logger.info({ rolloutId: r.rolloutId, who, reverted: r.reverted }, "fleet rollout rolling back");
  return { rolloutId: r.rolloutId, reverted: r.reverted };
}
