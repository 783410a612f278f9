import { newId } from "../ids.js";
import type { Db } from "../pool.js";
import type { UpgradePlanRow } from "../tables/upgrade-plans.js";

/** Where a plan lives: a project's environment. */
export interface PlanScope {
  workspaceId: string;
  projectId: string;
  environmentId: string;
}

/** The current state of a plan (its latest version). */
export interface UpgradePlan {
  name: string;
  version: number;
  image: string;
  minHeight: number | null;
  createdBy: string;
  createdAt: number;
}

function toPlan(row: UpgradePlanRow): UpgradePlan {
  return {
    name: row.name,
    version: Number(row.version),
    image: row.image ?? "",
    minHeight: row.min_height === null ? null : Number(row.min_height),
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
  };
}

/** Attempts of {@link appendUpgradePlan} when concurrent writers take the same version. */
const maxAppendAttempts = 20;

function isVersionRace(err: unknown): boolean {
  const code = (err as { errno?: number } | null)?.errno;
  // ER_DUP_ENTRY: another writer took this version first; ER_LOCK_DEADLOCK: InnoDB chose us as the victim.
  return code === 1062 || code === 1213;
}

/**
 * Appends a version of plan `name` (a new row; never an update). `image: null` writes a tombstone.
 * The next version is the current maximum + 1; the unique key (project, environment, name,
 * version) makes a concurrent writer that read the same maximum fail, and it tries again with the
 * next one, so racing writers get distinct, consecutive versions.
 */
export async function appendUpgradePlan(
  db: Db,
  scope: PlanScope,
  write: { name: string; image: string | null; minHeight: number | null; createdBy: string; now: number },
): Promise<{ version: number }> {
  for (let attempt = 1; ; attempt++) {
    const latest = await db
      .selectFrom("upgrade_plans")
      .select((eb) => eb.fn.max("version").as("version"))
      .where("project_id", "=", scope.projectId)
      .where("environment_id", "=", scope.environmentId)
      .where("name", "=", write.name)
      .executeTakeFirst();
    const version = Number(latest?.version ?? 0) + 1;
    try {
      await db
        .insertInto("upgrade_plans")
        .values({
          id: newId("plan"),
          workspace_id: scope.workspaceId,
          project_id: scope.projectId,
          environment_id: scope.environmentId,
          name: write.name,
          version,
          image: write.image,
          min_height: write.minHeight,
          deleted: write.image === null,
          created_by: write.createdBy,
          created_at: write.now,
        })
        .execute();
      return { version };
    } catch (err) {
      if (!isVersionRace(err) || attempt >= maxAppendAttempts) throw err;
    }
  }
}

/** The latest version of every plan of an environment that is not deleted, by name. */
export async function listUpgradePlans(db: Db, projectId: string, environmentId: string): Promise<UpgradePlan[]> {
  const rows = await db
    .selectFrom("upgrade_plans")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("environment_id", "=", environmentId)
    .orderBy("name")
    .orderBy("version", "desc")
    .execute();
  const latest = new Map<string, UpgradePlanRow>();
  for (const row of rows) if (!latest.has(row.name)) latest.set(row.name, row);
  return [...latest.values()].filter((r) => !Number(r.deleted)).map(toPlan);
}

/** The current plan `name` of an environment; undefined when it never existed or its latest row is a tombstone. */
export async function findUpgradePlan(db: Db, projectId: string, environmentId: string, name: string): Promise<UpgradePlan | undefined> {
  const row = await db
    .selectFrom("upgrade_plans")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("environment_id", "=", environmentId)
    .where("name", "=", name)
    .orderBy("version", "desc")
    .limit(1)
    .executeTakeFirst();
  if (!row || Number(row.deleted)) return undefined;
  return toPlan(row);
}

/** Every version of plan `name`, oldest first (tombstones included): the history. */
export async function upgradePlanHistory(db: Db, projectId: string, environmentId: string, name: string): Promise<UpgradePlanRow[]> {
  return db
    .selectFrom("upgrade_plans")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("environment_id", "=", environmentId)
    .where("name", "=", name)
    .orderBy("version")
    .execute();
}
