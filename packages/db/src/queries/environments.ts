import type { Db } from "../pool.js";
import type { Environment } from "../tables/environments.js";
import { isDuplicateKeyError } from "./projects.js";

/** The settings of an environment that new deployments copy; null = the platform default. */
export interface EnvironmentSettings {
  /** Regions overriding the worker's default regions. */
  regions: string[] | null;
  replicas: number | null;
  cpuMillicores: number | null;
  memoryMib: number | null;
  healthCheckPath: string | null;
}

/** The stored settings of an environment row. */
export function environmentSettingsOf(row: Environment): EnvironmentSettings {
  return {
    regions: row.regions === null ? null : (JSON.parse(row.regions) as string[]),
    replicas: row.replicas === null ? null : Number(row.replicas),
    cpuMillicores: row.cpu_millicores === null ? null : Number(row.cpu_millicores),
    memoryMib: row.memory_mib === null ? null : Number(row.memory_mib),
    healthCheckPath: row.health_check_path,
  };
}

function settingsColumns(settings: Partial<EnvironmentSettings>) {
  return {
    ...(settings.regions !== undefined ? { regions: settings.regions === null ? null : JSON.stringify(settings.regions) } : {}),
    ...(settings.replicas !== undefined ? { replicas: settings.replicas } : {}),
    ...(settings.cpuMillicores !== undefined ? { cpu_millicores: settings.cpuMillicores } : {}),
    ...(settings.memoryMib !== undefined ? { memory_mib: settings.memoryMib } : {}),
    ...(settings.healthCheckPath !== undefined ? { health_check_path: settings.healthCheckPath } : {}),
  };
}

/** Creates an environment; `duplicate_slug` when the project already has one with `slug`. */
export async function createEnvironment(
  db: Db,
  input: { id: string; workspaceId: string; projectId: string; slug: string; settings: Partial<EnvironmentSettings>; now: number },
): Promise<{ ok: true; environment: Environment } | { ok: false; reason: "duplicate_slug" }> {
  try {
    await db
      .insertInto("environments")
      .values({
        id: input.id,
        workspace_id: input.workspaceId,
        project_id: input.projectId,
        slug: input.slug,
        regions: null,
        ...settingsColumns(input.settings),
        created_at: input.now,
        updated_at: input.now,
      })
      .execute();
  } catch (err) {
    if (isDuplicateKeyError(err)) return { ok: false, reason: "duplicate_slug" };
    throw err;
  }
  return { ok: true, environment: await db.selectFrom("environments").selectAll().where("id", "=", input.id).executeTakeFirstOrThrow() };
}

/** A project's environments ordered by slug. */
export async function listProjectEnvironments(db: Db, projectId: string): Promise<Environment[]> {
  return db.selectFrom("environments").selectAll().where("project_id", "=", projectId).orderBy("slug").execute();
}

/** Changes the given settings (absent = unchanged, null = back to the default) and returns the row. */
export async function updateEnvironmentSettings(
  db: Db,
  environmentId: string,
  settings: Partial<EnvironmentSettings>,
  now: number,
): Promise<Environment | undefined> {
  await db
    .updateTable("environments")
    .set({ ...settingsColumns(settings), updated_at: now })
    .where("id", "=", environmentId)
    .execute();
  return db.selectFrom("environments").selectAll().where("id", "=", environmentId).executeTakeFirst();
}

/** Whether any deployment of the environment is still in progress or has instances desired running. */
export async function environmentHasRunningDeployments(db: Db, environmentId: string): Promise<boolean> {
  const inProgress = await db
    .selectFrom("deployments")
    .select("id")
    .where("environment_id", "=", environmentId)
    .where("status", "in", ["pending", "building", "deploying"])
    .limit(1)
    .executeTakeFirst();
  if (inProgress) return true;
  const running = await db
    .selectFrom("deployment_topology as t")
    .innerJoin("deployments as d", "d.id", "t.deployment_id")
    .select("t.deployment_id")
    .where("d.environment_id", "=", environmentId)
    .where("t.desired_status", "=", "running")
    .limit(1)
    .executeTakeFirst();
  return running !== undefined;
}

/** Deletes an environment with its routes, custom domains and variables; false when it did not exist. */
export async function deleteEnvironmentRows(db: Db, environmentId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom("frontline_routes").where("environment_id", "=", environmentId).execute();
    await trx.deleteFrom("custom_domains").where("environment_id", "=", environmentId).execute();
    await trx.deleteFrom("environment_variables").where("environment_id", "=", environmentId).execute();
    await trx.deleteFrom("region_traffic_splits").where("environment_id", "=", environmentId).execute();
    const result = await trx.deleteFrom("environments").where("id", "=", environmentId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  });
}
