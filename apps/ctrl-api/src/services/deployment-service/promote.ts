import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { PromoteRequest, PromoteResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import { authorizeDeployment, deploymentPermissions } from "../../deployment-model/access.js";
import type { ApiDeps } from "../../deps.js";
import { callDeploymentService } from "./worker-calls.js";

/**
 * DeploymentService.Promote: the project is the target deployment's; the caller needs
 * `promote_deployment` on it. The preconditions (target ready, a live deployment that is not the
 * target, sticky routes) are the worker's `DeploymentService.promote`, whose code reaches the caller.
 */
export async function promote(
  deps: ApiDeps,
  req: PromoteRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof PromoteResponseSchema>> {
  const target = await authorizeDeployment(
    deps.db,
    ctx.values.get(principalKey),
    req.targetDeploymentId,
    deploymentPermissions.promote,
    "target_deployment_id",
  );
  const result = await callDeploymentService(deps, target.project_id, "promote", { targetDeploymentId: target.id }, ctx.signal);
  deps.logger.info({ projectId: target.project_id, targetDeploymentId: target.id, liveDeploymentId: result.liveDeploymentId }, "promoted");
  return {};
}
