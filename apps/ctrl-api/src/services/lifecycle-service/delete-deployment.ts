import type { MessageInitShape } from "@bufbuild/protobuf";
import type { DeploymentServiceApi } from "@ctrl/ctrl-worker/api";
import { deploymentServiceName } from "@ctrl/ctrl-worker/contract";
import type { DeleteDeploymentResponseSchema } from "@ctrl/proto";
import type { Principal } from "../../auth.js";
import { authorizeDeployment } from "../../deployment-model/access.js";
import type { ApiDeps } from "../../deps.js";
import { connectErrorFromRestate } from "../../restate-errors.js";
import { lifecyclePermissions } from "./access.js";

/**
 * DeploymentLifecycleService.DeleteDeployment (permission `delete_deployment`): the worker's
 * `DeploymentService.archive` of the deployment's project, which refuses a running deploy or one
 * that serves, stops its instances in every region, removes its routes and archives the row.
 */
export async function deleteDeployment(
  deps: ApiDeps,
  principal: Principal | undefined,
  req: { deploymentId: string },
): Promise<MessageInitShape<typeof DeleteDeploymentResponseSchema>> {
  const owner = await authorizeDeployment(deps.db, principal, req.deploymentId, lifecyclePermissions.delete);
  try {
    const res = await deps.restate
      .objectClient<DeploymentServiceApi>({ name: deploymentServiceName }, owner.project_id)
      .archive({ deploymentId: owner.id });
    deps.logger.info({ deploymentId: owner.id, projectId: owner.project_id, removed: res.removedHostnames }, "deployment deleted");
    return res;
  } catch (err) {
    throw connectErrorFromRestate(err, `deleting deployment ${owner.id}`);
  }
}
