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

/** Whether `err` is MySQL's duplicate-key error (a unique constraint refused the row). */
export function isDuplicateKeyError(err: unknown): boolean {
  return (err as { code?: string; errno?: number } | null)?.code === "ER_DUP_ENTRY" || (err as { errno?: number } | null)?.errno === 1062;
}

/** The environments every new project gets. */
export const defaultEnvironmentSlugs = ["production", "preview"] as const;

/**
 * Creates a project with its `production` and `preview` environments in one transaction.
 * `duplicate_slug` when the workspace already has a project with `slug` (the unique constraint decides).
 */
export async function createProjectWithEnvironments(
  db: Db,
  input: { id: string; workspaceId: string; name: string; slug: string; defaultBranch: string; environmentIds: string[]; now: number },
): Promise<{ ok: true; project: Project; environments: Environment[] } | { ok: false; reason: "duplicate_slug" }> {
  try {
    return await db.transaction().execute(async (trx) => {
      await trx
        .insertInto("projects")
        .values({
          id: input.id,
          workspace_id: input.workspaceId,
          name: input.name,
          slug: input.slug,
          default_branch: input.defaultBranch,
          live_deployment_id: null,
          created_at: input.now,
          updated_at: input.now,
        })
        .execute();
      const rows = defaultEnvironmentSlugs.map((slug, i) => ({
        id: input.environmentIds[i]!,
        workspace_id: input.workspaceId,
        project_id: input.id,
        slug,
        regions: null,
        created_at: input.now,
        updated_at: input.now,
      }));
      await trx.insertInto("environments").values(rows).execute();
      const project = await trx.selectFrom("projects").selectAll().where("id", "=", input.id).executeTakeFirstOrThrow();
      const environments = await trx.selectFrom("environments").selectAll().where("project_id", "=", input.id).orderBy("slug").execute();
      return { ok: true as const, project, environments };
    });
  } catch (err) {
    if (isDuplicateKeyError(err)) return { ok: false, reason: "duplicate_slug" };
    throw err;
  }
}

/** A workspace's projects ordered by slug, at most `limit`, after `afterSlug` when given (keyset paging). */
export async function listWorkspaceProjects(db: Db, workspaceId: string, page: { limit: number; afterSlug?: string }): Promise<Project[]> {
  let q = db.selectFrom("projects").selectAll().where("workspace_id", "=", workspaceId);
  if (page.afterSlug !== undefined) q = q.where("slug", ">", page.afterSlug);
  return q.orderBy("slug").limit(page.limit).execute();
}

/** Sets what a project may change after creation; false when the project does not exist. */
export async function updateProjectSettings(
  db: Db,
  projectId: string,
  change: { name?: string; defaultBranch?: string },
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable("projects")
    .set({
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(change.defaultBranch !== undefined ? { default_branch: change.defaultBranch } : {}),
      updated_at: now,
    })
    .where("id", "=", projectId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Deployment statuses of a deploy still in progress (its workflow runs). */
export const inProgressDeploymentStatuses = ["pending", "building", "deploying"] as const;

/** What keeps a project from being deleted: deploys in progress and deployments with running instances. */
export interface ProjectActivity {
  /** Deployments whose deploy workflow still runs. */
  inProgressDeploymentIds: string[];
  /** Topology rows desired `running`, per deployment and region. */
  runningTopology: { deploymentId: string; workspaceId: string; region: string; desiredReplicas: number }[];
  /** Sentinels of the project's environments not yet archived. */
  activeSentinels: { sentinelId: string; region: string }[];
}

/** What of the project still runs (see {@link ProjectActivity}). */
export async function findProjectActivity(db: Db, projectId: string): Promise<ProjectActivity> {
  const inProgress = await db
    .selectFrom("deployments")
    .select("id")
    .where("project_id", "=", projectId)
    .where("status", "in", [...inProgressDeploymentStatuses])
    .orderBy("created_at")
    .execute();
  const topology = await db
    .selectFrom("deployment_topology as t")
    .innerJoin("deployments as d", "d.id", "t.deployment_id")
    .select(["t.deployment_id", "t.workspace_id", "t.region", "t.desired_replicas"])
    .where("d.project_id", "=", projectId)
    .where("t.desired_status", "=", "running")
    .orderBy("t.deployment_id")
    .orderBy("t.region")
    .execute();
  const sentinels = await db
    .selectFrom("sentinels")
    .select(["id", "region"])
    .where("project_id", "=", projectId)
    .where("desired_state", "!=", "archived")
    .orderBy("id")
    .execute();
  return {
    inProgressDeploymentIds: inProgress.map((r) => r.id),
    runningTopology: topology.map((r) => ({
      deploymentId: r.deployment_id,
      workspaceId: r.workspace_id,
      region: r.region,
      desiredReplicas: Number(r.desired_replicas),
    })),
    activeSentinels: sentinels.map((r) => ({ sentinelId: r.id, region: r.region })),
  };
}

/**
 * Deletes a project's configuration in one transaction: its routes, custom domains, environment
 * variables, environments and the project row. Deployments, their steps, topology and instances stay
 * as history (agents learn of stopped topology through its versions). False when it did not exist.
 */
export async function deleteProjectRows(db: Db, projectId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const environmentIds = (await trx.selectFrom("environments").select("id").where("project_id", "=", projectId).execute()).map(
      (r) => r.id,
    );
    await trx.deleteFrom("frontline_routes").where("project_id", "=", projectId).execute();
    await trx.deleteFrom("custom_domains").where("project_id", "=", projectId).execute();
    if (environmentIds.length) {
      await trx.deleteFrom("environment_variables").where("environment_id", "in", environmentIds).execute();
      await trx.deleteFrom("region_traffic_splits").where("environment_id", "in", environmentIds).execute();
    }
    await trx.deleteFrom("environments").where("project_id", "=", projectId).execute();
    const result = await trx.deleteFrom("projects").where("id", "=", projectId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  });
}
