import type { Db } from "../pool.js";
import type { Environment } from "../tables/environments.js";
import type { Project } from "../tables/projects.js";

/** The project row, or undefined. */
export async function findProjectById(db: Db, projectId: string): Promise<Project | undefined> {
  return db.selectFrom("projects").selectAll().where("id", "=", projectId).executeTakeFirst();
}

/** The project's live pointer and rolled-back pin, booleans normalised (MySQL returns 0/1). */
export interface ProjectPointer {
  id: string;
  workspaceId: string;
  liveDeploymentId: string | null;
  isRolledBack: boolean;
}

/** The project's live pointer and pin, or undefined when the project does not exist. */
export async function findProjectPointer(db: Db, projectId: string): Promise<ProjectPointer | undefined> {
  const row = await db
    .selectFrom("projects")
    .select(["id", "workspace_id", "live_deployment_id", "is_rolled_back"])
    .where("id", "=", projectId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    liveDeploymentId: row.live_deployment_id,
    isRolledBack: Boolean(Number(row.is_rolled_back)),
  };
}

/** The project's environment with `slug`, or undefined (slugs are per project). */
export async function findEnvironmentBySlug(db: Db, projectId: string, slug: string): Promise<Environment | undefined> {
  return db.selectFrom("environments").selectAll().where("project_id", "=", projectId).where("slug", "=", slug).executeTakeFirst();
}

/** Every environment of a project, by slug. */
export async function listProjectEnvironments(db: Db, projectId: string): Promise<Environment[]> {
  return db.selectFrom("environments").selectAll().where("project_id", "=", projectId).orderBy("slug").execute();
}
