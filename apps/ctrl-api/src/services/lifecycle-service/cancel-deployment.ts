import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { DeployWorkflowApi } from "@ctrl/ctrl-worker/api";
import { deployWorkflowName } from "@ctrl/ctrl-worker/contract";
import { findDeploymentById, terminalDeploymentStatuses } from "@ctrl/db";
import type { CancelDeploymentResponseSchema } from "@ctrl/proto";
import type { Principal } from "../../auth.js";
import { authorizeDeployment } from "../../deployment-model/access.js";
import type { ApiDeps } from "../../deps.js";
import { connectErrorFromRestate } from "../../restate-errors.js";
import { lifecyclePermissions } from "./access.js";

/**
 * DeploymentLifecycleService.CancelDeployment (permission `cancel_deployment`): resolves the deploy
 * workflow's cancel promise (`DeployWorkflow.cancel`); the run stops at its next step, stops its
 * topology and ends `cancelled` with a step saying so. A finished deploy is `failed_precondition`.
 */
export async function cancelDeployment(
  deps: ApiDeps,
  principal: Principal | undefined,
  req: { deploymentId: string; reason?: string | undefined },
): Promise<MessageInitShape<typeof CancelDeploymentResponseSchema>> {
  const owner = await authorizeDeployment(deps.db, principal, req.deploymentId, lifecyclePermissions.cancel);
  const row = (await findDeploymentById(deps.db, owner.id))!;
  if (terminalDeploymentStatuses.includes(row.status))
    throw new ConnectError(
      `deployment ${row.id} is already ${row.status}: only a running deploy can be cancelled${row.status === "ready" ? " (stop it instead)" : ""}`,
      Code.FailedPrecondition,
    );
  const reason = req.reason?.trim().slice(0, 500);
  try {
    await deps.restate.workflowClient<DeployWorkflowApi>({ name: deployWorkflowName }, row.id).cancel(reason ? { reason } : {});
  } catch (err) {
    throw connectErrorFromRestate(err, `cancelling the deploy of ${row.id}`);
  }
  deps.logger.info({ deploymentId: row.id, projectId: row.project_id, status: row.status }, "deploy cancel requested");
  return { deploymentId: row.id, status: row.status };
}
