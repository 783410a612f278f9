import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { RollbackRequest, RollbackResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import { authorizeDeployment, deploymentPermissions } from "../../deployment-model/access.js";
import type { ApiDeps } from "../../deps.js";
import { callDeploymentService } from "./worker-calls.js";

/**
 * DeploymentService.Rollback: the project is the source deployment's; the caller needs
 * `rollback_deployment` on it. Every other precondition (source ≠ target, same project and
 * environment, source is live, target ready, sticky routes exist) is the worker's
 * `DeploymentService.rollback`, whose error code reaches the caller unchanged.
 */
export async function rollback(
  deps: ApiDeps,
  req: RollbackRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof RollbackResponseSchema>> {
  const targetDeploymentId = req.targetDeploymentId.trim();
  if (!targetDeploymentId) throw new ConnectError("target_deployment_id is required", Code.InvalidArgument);
  const source = await authorizeDeployment(
    deps.db,
    ctx.values.get(principalKey),
    req.sourceDeploymentId,
    deploymentPermissions.rollback,
    "source_deployment_id",
  );
  const result = await callDeploymentService(
    deps,
    source.project_id,
    "rollback",
    { sourceDeploymentId: source.id, targetDeploymentId },
    ctx.signal,
  );
  deps.logger.info(
    { projectId: source.project_id, sourceDeploymentId: source.id, targetDeploymentId, liveDeploymentId: result.liveDeploymentId },
    "rolled back",
  );
  return {};
}
