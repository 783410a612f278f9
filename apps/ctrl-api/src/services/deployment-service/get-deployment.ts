import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { DeploymentRolloutSchema, type GetDeploymentRequest, type GetDeploymentResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import { authorizeDeployment, deploymentPermissions } from "../../deployment-model/access.js";
import { loadRolloutView, rolloutMessage } from "../../deployment-model/rollout-view.js";
import { deploymentMessage, loadDeploymentView } from "../../deployment-model/view.js";
import type { ApiDeps } from "../../deps.js";

/** DeploymentService.GetDeployment: status, error, hostnames, steps in order, topology, git fields, the rollout. */
export async function getDeployment(
  deps: ApiDeps,
  req: GetDeploymentRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof GetDeploymentResponseSchema>> {
  const owner = await authorizeDeployment(deps.db, ctx.values.get(principalKey), req.deploymentId, deploymentPermissions.read);
  const view = await loadDeploymentView(deps.db, owner.id);
  if (!view) throw new ConnectError(`deployment ${owner.id} not found`, Code.NotFound);
  const rollout = await loadRolloutView(deps.db, owner.id, view.row.rollout_policy);
  return {
    deployment: { ...deploymentMessage(view), ...(rollout ? { rollout: create(DeploymentRolloutSchema, rolloutMessage(rollout)) } : {}) },
  };
}
