import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { findSentinelSyncRow } from "@ctrl/db";
import type { GetDesiredSentinelStateRequest, SentinelState } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { regionOfUnary, requireAgent } from "./agent.js";
import { sentinelState } from "./messages.js";

/** ClusterService.GetDesiredSentinelState: one sentinel of the caller's region (version unset). */
export async function getDesiredSentinelState(
  deps: ApiDeps,
  req: GetDesiredSentinelStateRequest,
  ctx: HandlerContext,
): Promise<SentinelState> {
  const agent = requireAgent(ctx);
  const region = regionOfUnary(ctx, agent);
  const sentinelId = req.sentinelId.trim();
  if (!sentinelId) throw new ConnectError("sentinel_id is required", Code.InvalidArgument);
  const row = await findSentinelSyncRow(deps.db, sentinelId);
  // A sentinel of another region is as invisible to this agent as a missing one.
  if (!row || row.region !== region) throw new ConnectError(`sentinel ${sentinelId} not found in region ${region}`, Code.NotFound);
  return sentinelState(row, false);
}
