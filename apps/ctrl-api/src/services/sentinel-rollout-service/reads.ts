import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { listRollouts as listRolloutRows } from "@ctrl/db";
import type {
  GetRolloutRequest,
  GetRolloutResponseSchema,
  ListRolloutsRequest,
  ListRolloutsResponseSchema,
  WatchRolloutRequest,
  WatchRolloutResponseSchema,
} from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { abortableSleep } from "../../watch/sleep.js";
import { requireOperator } from "./access.js";
import { loadRolloutRow, rolloutMessage, stateOfRow } from "./view.js";

// The read side reads the MySQL mirror, never the worker: a stuck or busy worker cannot stall
// GetRollout or WatchRollout, and history survives the virtual object's next rollout.

/** SentinelRolloutService.GetRollout: by id, or the latest. */
export async function getRollout(
  deps: ApiDeps,
  req: GetRolloutRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof GetRolloutResponseSchema>> {
  requireOperator(ctx);
  return { rollout: rolloutMessage(stateOfRow(await loadRolloutRow(deps.db, req.rolloutId))) };
}

/** SentinelRolloutService.ListRollouts: history, newest first, without targets. */
export async function listRollouts(
  deps: ApiDeps,
  req: ListRolloutsRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof ListRolloutsResponseSchema>> {
  requireOperator(ctx);
  if (req.limit < 0 || req.limit > 100) throw new ConnectError("limit must be between 1 and 100 (0: 20)", Code.InvalidArgument);
  const rows = await listRolloutRows(deps.db, req.limit || 20);
  return { rollouts: rows.map((r) => rolloutMessage(stateOfRow(r), false)) };
}

/** Interval between two reads of a watched rollout (one primary-key read of the mirror row). */
export const rolloutWatchPollMs = 200;

const activeStates = new Set(["in_progress", "rolling_back"]);

/** SentinelRolloutService.WatchRollout: the state now, then each change, until it is no longer active. */
export async function* watchRollout(
  deps: ApiDeps,
  req: WatchRolloutRequest,
  ctx: HandlerContext,
): AsyncGenerator<MessageInitShape<typeof WatchRolloutResponseSchema>> {
  requireOperator(ctx);
  const first = await loadRolloutRow(deps.db, req.rolloutId);
  let revision = -1;
  while (!ctx.signal.aborted) {
    const row = await loadRolloutRow(deps.db, first.id);
    if (row.revision !== revision) {
      revision = row.revision;
      yield { rollout: rolloutMessage(stateOfRow(row)) };
    }
    if (!activeStates.has(row.state)) return;
    await abortableSleep(deps.deploymentWatchPollMs ?? rolloutWatchPollMs, ctx.signal);
  }
}
