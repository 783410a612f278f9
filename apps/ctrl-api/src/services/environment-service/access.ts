import { Code, ConnectError } from "@connectrpc/connect";
import type { Db } from "@ctrl/db";
import { requireProjectAccess, type Principal } from "../../auth.js";

/**
 * Loads the environment `slug` of project `projectId` and checks that `principal` may `action` on
 * the project. A missing project, one of another workspace and a missing environment are all
 * `not_found` (the message never says which workspace a project belongs to).
 */
export async function authorizeEnvironment(
  db: Db,
  principal: Principal | undefined,
  projectId: string,
  environmentSlug: string,
  action: string,
): Promise<{ id: string; project_id: string; workspace_id: string; rollout_policy: string | null }> {
  const project_id = projectId.trim();
  const slug = environmentSlug.trim();
  if (!project_id) throw new ConnectError("project_id is required", Code.InvalidArgument);
  if (!slug) throw new ConnectError("environment_slug is required (e.g. production)", Code.InvalidArgument);
  if (project_id.length > 64) throw new ConnectError("project_id is not a valid project id", Code.InvalidArgument);
  if (slug.length > 64) throw new ConnectError("environment_slug is at most 64 characters", Code.InvalidArgument);
  const project = await db.selectFrom("projects").select(["id", "workspace_id"]).where("id", "=", project_id).executeTakeFirst();
  requireProjectAccess(principal, project, action, `project ${project_id} not found`);
  const environment = await db
    .selectFrom("environments")
    .select(["id", "project_id", "workspace_id", "rollout_policy"])
    .where("project_id", "=", project_id)
    .where("slug", "=", slug)
    .executeTakeFirst();
  if (!environment) throw new ConnectError(`environment "${slug}" not found in project ${project_id}`, Code.NotFound);
  return environment;
}
