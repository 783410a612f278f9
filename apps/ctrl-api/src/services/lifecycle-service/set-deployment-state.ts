import type { MessageInitShape } from "@bufbuild/protobuf";
import type { DeploymentServiceApi } from "@ctrl/ctrl-worker/api";
import { deploymentServiceName } from "@ctrl/ctrl-worker/contract";
import type { DeploymentStateResponseSchema } from "@ctrl/proto";
import type { Principal } from "../../auth.js";
import { authorizeDeployment } from "../../deployment-model/access.js";
import type { ApiDeps } from "../../deps.js";
import { connectErrorFromRestate } from "../../restate-errors.js";
import { lifecyclePermissions } from "./access.js";

/** The words of the API: `standby` is what a stopped deployment is. */
export type DeploymentDesiredState = "running" | "standby";

/**
 * StopDeployment / StartDeployment (permission `stop_deployment`): the worker's
 * `DeploymentService.setDesiredState` of the deployment's project (exclusive there, so it never
 * interleaves with a rollback or promote), which checks the preconditions and commits each region's
 * topology through its VersioningService.
 */
export async function setDeploymentState(
  deps: ApiDeps,
  principal: Principal | undefined,
  req: { deploymentId: string },
  state: DeploymentDesiredState,
): Promise<MessageInitShape<typeof DeploymentStateResponseSchema>> {
  const owner = await authorizeDeployment(deps.db, principal, req.deploymentId, lifecyclePermissions.stop);
  try {
    const res = await deps.restate
      .objectClient<DeploymentServiceApi>({ name: deploymentServiceName }, owner.project_id)
      .setDesiredState({ deploymentId: owner.id, desiredStatus: state === "running" ? "running" : "stopped" });
    deps.logger.info({ deploymentId: owner.id, projectId: owner.project_id, state, changed: res.changedRegions }, "deployment state set");
    return { deploymentId: res.deploymentId, desiredState: state, regions: res.regions, changedRegions: res.changedRegions };
  } catch (err) {
    throw connectErrorFromRestate(err, `${state === "running" ? "starting" : "stopping"} deployment ${owner.id}`);
  }
}
