import type { Db } from "../pool.js";
import type { DeploymentRolloutRow, NewDeploymentRollout, RegionTrafficSplit } from "../tables/deployment-rollouts.js";

/** The environment's stored rollout policy spec (JSON), or null when it never set one. */
export async function readEnvironmentPolicy(db: Db, environmentId: string): Promise<string | null | undefined> {
  const row = await db.selectFrom("environments").select("rollout_policy").where("id", "=", environmentId).executeTakeFirst();
  return row ? row.rollout_policy : undefined;
}

/** Stores the environment's rollout policy spec (JSON); null goes back to the default. */
export async function writeEnvironmentPolicy(db: Db, environmentId: string, policyJson: string | null, now: number): Promise<void> {
  await db.updateTable("environments").set({ rollout_policy: policyJson, updated_at: now }).where("id", "=", environmentId).execute();
}

/**
 * Creates the rollout row of a deployment unless it exists (a replayed step writes nothing twice);
 * returns the row as stored.
 */
export async function createDeploymentRollout(db: Db, row: Omit<NewDeploymentRollout, "revision">): Promise<DeploymentRolloutRow> {
  await db
    .insertInto("deployment_rollouts")
    .values({ ...row, revision: 1 })
    .onDuplicateKeyUpdate({ deployment_id: (eb) => eb.ref("deployment_id") })
    .execute();
  return (await findDeploymentRollout(db, row.deployment_id)) as DeploymentRolloutRow;
}

/** A deployment's rollout row, or undefined (deployments created before rollouts, or not started). */
export async function findDeploymentRollout(db: Db, deploymentId: string): Promise<DeploymentRolloutRow | undefined> {
  return db.selectFrom("deployment_rollouts").selectAll().where("deployment_id", "=", deploymentId).executeTakeFirst();
}

/** The progress a running rollout writes; every write moves `revision` so watchers see it. */
export type RolloutProgress = Partial<
  Pick<DeploymentRolloutRow, "state" | "targets" | "checkpoint" | "failure_details" | "last_analysis" | "finished_at">
>;

/** Writes a rollout's progress (the workflow's side); `control_state` is never touched here. */
export async function writeRolloutProgress(db: Db, deploymentId: string, progress: RolloutProgress, now: number): Promise<void> {
  await db
    .updateTable("deployment_rollouts")
    .set((eb) => ({ ...progress, updated_at: now, revision: eb("revision", "+", 1) }))
    .where("deployment_id", "=", deploymentId)
    .execute();
}

/**
 * Sets the control state (the operators' side) only if it is still `expected`: a concurrent change
 * in between makes it return false, so two operators never overwrite each other blindly.
 */
export async function compareAndSetControlState(
  db: Db,
  deploymentId: string,
  expected: string,
  next: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable("deployment_rollouts")
    .set((eb) => ({ control_state: next, updated_at: now, revision: eb("revision", "+", 1) }))
    .where("deployment_id", "=", deploymentId)
    .where("control_state", "=", expected)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The newest rollouts of an environment, newest first (for `ctrl status` and history). */
export async function listEnvironmentRollouts(db: Db, environmentId: string, limit: number): Promise<DeploymentRolloutRow[]> {
  return db
    .selectFrom("deployment_rollouts")
    .selectAll()
    .where("environment_id", "=", environmentId)
    .orderBy("created_at", "desc")
    .orderBy("deployment_id", "desc")
    .limit(limit)
    .execute();
}

/** Sets (or moves) a region's traffic split: `canaryWeight` % of new clients to the canary. */
export async function setRegionSplit(
  db: Db,
  split: Pick<
    RegionTrafficSplit,
    "environment_id" | "region" | "workspace_id" | "stable_deployment_id" | "canary_deployment_id" | "canary_weight"
  >,
  now: number,
): Promise<void> {
  await db
    .insertInto("region_traffic_splits")
    .values({ ...split, created_at: now, updated_at: now })
    .onDuplicateKeyUpdate({
      stable_deployment_id: split.stable_deployment_id,
      canary_deployment_id: split.canary_deployment_id,
      canary_weight: split.canary_weight,
      updated_at: now,
    })
    .execute();
}

/**
 * Removes an environment's splits (all of them, or only the given regions): those regions serve the
 * stable deployment of `frontline_routes` again. Returns how many were removed.
 */
export async function clearRegionSplits(db: Db, environmentId: string, regions?: readonly string[]): Promise<number> {
  let query = db.deleteFrom("region_traffic_splits").where("environment_id", "=", environmentId);
  if (regions) {
    if (regions.length === 0) return 0;
    query = query.where("region", "in", regions);
  }
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Every split of one region (what that region's frontline applies), by environment. */
export async function listRegionSplits(db: Db, region: string): Promise<RegionTrafficSplit[]> {
  return db.selectFrom("region_traffic_splits").selectAll().where("region", "=", region).orderBy("environment_id").execute();
}
