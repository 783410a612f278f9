import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { findDeploymentById, readBuildLogs } from "@ctrl/db";
import type { GetDeploymentLogsRequest, GetDeploymentLogsResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import { authorizeDeployment, deploymentPermissions } from "../../deployment-model/access.js";
import { protoStatus } from "../../deployment-model/view.js";
import type { ApiDeps } from "../../deps.js";

const defaultLimit = 500;
const maxLimit = 5_000;

/**
 * DeploymentService.GetDeploymentLogs (ours): one page of the deployment's build log (`build_logs`,
 * written by the worker as the build runs), lines with `seq > after_seq`, plus the deployment's
 * status so a follower (`ctrl logs --follow`) knows when to stop. Permission `read_deployment`.
 */
export async function getDeploymentLogs(
  deps: ApiDeps,
  req: GetDeploymentLogsRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof GetDeploymentLogsResponseSchema>> {
  const owner = await authorizeDeployment(deps.db, ctx.values.get(principalKey), req.deploymentId, deploymentPermissions.read);
  if (req.afterSeq < 0n) throw new ConnectError("after_seq must not be negative", Code.InvalidArgument);
  if (req.limit < 0) throw new ConnectError("limit must not be negative", Code.InvalidArgument);
  const limit = Math.min(req.limit === 0 ? defaultLimit : req.limit, maxLimit);
  // Read the status first: lines written before a terminal status are then all in this page or later ones.
  const row = await findDeploymentById(deps.db, owner.id);
  if (!row) throw new ConnectError(`deployment ${owner.id} not found`, Code.NotFound);
  const after = Number(req.afterSeq);
  const lines = await readBuildLogs(deps.db, owner.id, after, limit);
  return {
    lines: lines.map((l) => ({ seq: BigInt(l.seq), step: l.step, line: l.line, createdAt: BigInt(l.created_at) })),
    nextSeq: BigInt(lines.at(-1)?.seq ?? after),
    status: protoStatus[row.status],
  };
}
