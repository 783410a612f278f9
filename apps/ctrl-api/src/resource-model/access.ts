import { Code, ConnectError } from "@connectrpc/connect";
import { findProjectById, hasWorkspacePermission, type Db, type Project } from "@ctrl/db";
import { requireProjectAccess, type Principal } from "../auth.js";
import { InvalidField } from "../deployment-model/errors.js";

/**
 * Root-key permissions of projects, environments and keys (docs/security.md "Root keys"):
 * workspace-level `workspace.create_project` (CreateProject) and `workspace.manage_keys` (every
 * RootKeyService method); per project `project.<id|*>.read_project` (GetProject, ListProjects),
 * `update_project`, `delete_project`, `read_environment` (ListEnvironments) and `write_environment`
 * (Create/Update/DeleteEnvironment). The operator token may do everything.
 */
export const resourcePermissions = {
  createProject: "create_project",
  manageKeys: "manage_keys",
  readProject: "read_project",
  updateProject: "update_project",
  deleteProject: "delete_project",
  readEnvironment: "read_environment",
  writeEnvironment: "write_environment",
} as const;

/**
 * The workspace a workspace-level call acts on, after checking `workspace.<action>`: a root key's own
 * workspace (a `workspace_id` naming another one is `not_found`), or for the operator the one it names.
 */
export async function requireWorkspaceAccess(
  db: Db,
  principal: Principal | undefined,
  requestedWorkspaceId: string,
  action: string,
): Promise<string> {
  const requested = requestedWorkspaceId.trim();
  if (!principal) throw new ConnectError("unauthenticated", Code.Unauthenticated);
  if (principal.kind === "agent" || principal.kind === "frontline")
    throw new ConnectError(`a ${principal.kind} credential cannot act on workspaces`, Code.PermissionDenied);
  if (principal.kind === "operator") {
    if (!requested) throw new InvalidField("workspace_id", "workspaceId", "is required with the operator token");
    if (requested.length > 64) throw new InvalidField("workspace_id", "workspaceId", "is not a valid workspace id");
    const workspace = await db.selectFrom("workspaces").select("id").where("id", "=", requested).executeTakeFirst();
    if (!workspace) throw new ConnectError(`workspace ${requested} not found`, Code.NotFound);
    return workspace.id;
  }
  if (requested && requested !== principal.workspaceId) throw new ConnectError(`workspace ${requested} not found`, Code.NotFound);
  if (!hasWorkspacePermission(principal.permissions, action))
    throw new ConnectError(`permission denied: the key lacks workspace.${action}`, Code.PermissionDenied);
  return principal.workspaceId;
}

/** Loads a project the principal may `action` on: `not_found` when missing or of another workspace. */
export async function authorizeProjectResource(
  db: Db,
  principal: Principal | undefined,
  projectId: string,
  action: string,
): Promise<Project> {
  const id = projectId.trim();
  if (!id) throw new InvalidField("project_id", "projectId", "is required");
  if (id.length > 64) throw new InvalidField("project_id", "projectId", "is not a valid project id");
  const project = await findProjectById(db, id);
  requireProjectAccess(principal, project, action, `project ${id} not found`);
  return project!;
}
