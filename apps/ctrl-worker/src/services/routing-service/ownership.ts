import { findDeploymentOwner, type Db } from "@ctrl/db";
import { terminal } from "../../errors.js";

/** The owner columns of a deployment that RoutingService may route. */
export interface OwnedDeployment {
  id: string;
  workspaceId: string;
  environmentId: string;
}

/**
 * Loads `deploymentId` and refuses it unless it belongs to `projectId`, the object key: the key
 * serialises a project's routing, so a handler that took a deployment of another project would move
 * that project's traffic outside its serialization point (and, from a forged call, claim it).
 * Throws TerminalErrors (never retried): not_found, permission_denied.
 */
export async function requireDeploymentOfProject(
  db: Db,
  projectId: string,
  deploymentId: unknown,
  field: string,
): Promise<OwnedDeployment> {
  if (typeof deploymentId !== "string" || deploymentId.length === 0 || deploymentId.length > 64) {
    throw terminal("invalid_argument", `${field} must be a deployment id of at most 64 characters`);
  }
  const row = await findDeploymentOwner(db, deploymentId);
  if (!row) throw terminal("not_found", `${field}: deployment ${deploymentId} not found`);
  if (row.project_id !== projectId)
    throw terminal("permission_denied", `${field}: deployment ${deploymentId} does not belong to project ${projectId} (the object key)`);
  return { id: row.id, workspaceId: row.workspace_id, environmentId: row.environment_id };
}
