import { Code, ConnectError } from "@connectrpc/connect";
import { findDeploymentOwner, type Db, type DeploymentOwner } from "@ctrl/db";
import { requireProjectAccess, type Principal } from "../auth.js";

/**
 * Root-key permissions of the deployment RPCs, as `project.<id|*>.<action>`:
 * `create_deployment` (CreateDeployment), `read_deployment` (GetDeployment, ListDeployments,
 * WatchDeployment), `rollback_deployment` (Rollback), `promote_deployment` (Promote),
 * `rollout_deployment` (PauseRollout, ResumeRollout, CancelRollout and their `/v2` endpoints),
 * `read_rollout_policy` (EnvironmentService.GetRolloutPolicy), `write_rollout_policy` (SetRolloutPolicy).
 * The internal token may do everything. Projects, environments and keys: `resourcePermissions`
 * (resource-model/access.ts), including the workspace-level `workspace.create_project` and
 * `workspace.manage_keys` (docs/platform-api.md).
 */
export const deploymentPermissions = {
  create: "create_deployment",
  read: "read_deployment",
  rollback: "rollback_deployment",
  promote: "promote_deployment",
  rollout: "rollout_deployment",
  readRolloutPolicy: "read_rollout_policy",
  writeRolloutPolicy: "write_rollout_policy",
} as const;

/**
 * Loads the deployment's ownership and checks that `principal` may `action` on its project. A
 * missing deployment and one in another workspace are the same `not_found`.
 */
export async function authorizeDeployment(
  db: Db,
  principal: Principal | undefined,
  deploymentId: string,
  action: string,
  field = "deployment_id",
): Promise<DeploymentOwner> {
  const id = deploymentId.trim();
  if (!id) throw new ConnectError(`${field} is required`, Code.InvalidArgument);
  if (id.length > 64) throw new ConnectError(`${field} is not a valid deployment id`, Code.InvalidArgument);
  const row = await findDeploymentOwner(db, id);
  const notFound = `deployment ${id} not found`;
  if (!row) throw new ConnectError(notFound, Code.NotFound);
  requireProjectAccess(principal, { id: row.project_id, workspace_id: row.workspace_id }, action, notFound);
  return row;
}
