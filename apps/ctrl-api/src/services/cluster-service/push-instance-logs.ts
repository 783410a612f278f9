import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { appendRuntimeLogs, findTopologyRow, type RuntimeLogWrite } from "@ctrl/db";
import type { PushInstanceLogsRequest, PushInstanceLogsResponseSchema } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { regionOfUnary, requireAgent } from "./agent.js";

/** Most lines one push may carry, and the longest line kept (longer ones are cut, marked with …). */
export const maxLinesPerPush = 2_000;
export const maxLineChars = 16 * 1024;

/**
 * ClusterService.PushInstanceLogs (ours): stores lines the credential's region's instances printed,
 * per deployment (`runtime_logs`), so they stay readable after the instances exit. Only deployments
 * with desired state in the region (a topology row) may be pushed (`not_found` otherwise, nothing
 * stored). At-least-once: a line already stored (same instance, stream and position) is skipped.
 */
export async function pushInstanceLogs(
  deps: ApiDeps,
  req: PushInstanceLogsRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof PushInstanceLogsResponseSchema>> {
  const agent = requireAgent(ctx);
  const region = regionOfUnary(ctx, agent);
  const now = (deps.now ?? Date.now)();
  if (req.lines.length > maxLinesPerPush) throw new ConnectError(`at most ${maxLinesPerPush} lines per push`, Code.InvalidArgument);
  const rows: RuntimeLogWrite[] = req.lines.map((l, n) => {
    const deploymentId = l.k8sName.trim();
    const instance = l.instance.trim();
    if (!deploymentId || deploymentId.length > 64)
      throw new ConnectError(`lines[${n}].k8s_name must be 1-64 characters`, Code.InvalidArgument);
    if (!instance || instance.length > 255) throw new ConnectError(`lines[${n}].instance must be 1-255 characters`, Code.InvalidArgument);
    const stream = l.stream.trim();
    if (!stream || stream.length > 64) throw new ConnectError(`lines[${n}].stream must be 1-64 characters`, Code.InvalidArgument);
    if (l.position < 0n) throw new ConnectError(`lines[${n}].position must not be negative`, Code.InvalidArgument);
    const line = l.line.length > maxLineChars ? `${l.line.slice(0, maxLineChars)}…` : l.line;
    return {
      deploymentId,
      instance,
      stream,
      position: Number(l.position),
      line,
      observedAt: l.observedAt > 0n ? Number(l.observedAt) : now,
    };
  });
  for (const deploymentId of new Set(rows.map((r) => r.deploymentId))) {
    if (!(await findTopologyRow(deps.db, region, deploymentId)))
      throw new ConnectError(
        `deployment ${deploymentId} has no desired state in region ${region}: an agent may push logs only of deployments it was told to run`,
        Code.NotFound,
      );
  }
  const stored = await appendRuntimeLogs(deps.db, region, rows);
  return { stored };
}
