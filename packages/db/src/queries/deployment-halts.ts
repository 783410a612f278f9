import type { Db } from "../pool.js";
import type { DeploymentHalt, DeploymentHaltsTable, HaltReason, NewDeploymentHalt } from "../tables/deployment-halts.js";

/**
 * Records a halt the first time it is seen; a later call for the same deployment and reason keeps
 * the existing row (the supervisor is invoked once per report that carries the halt). True when
 * this call inserted it.
 */
export async function insertHaltOnce(db: Db, halt: NewDeploymentHalt): Promise<boolean> {
  const result = await db.insertInto("deployment_halts").values(halt).ignore().executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Updates a halt's decision fields. */
export async function updateHalt(
  db: Db,
  deploymentId: string,
  reason: HaltReason,
  change: Partial<Pick<DeploymentHaltsTable, "state" | "condition" | "replaced_by_deployment_id" | "message" | "paged_at" | "resolved_at">>,
  now: number,
): Promise<void> {
  await db
    .updateTable("deployment_halts")
    .set({ ...change, updated_at: now })
    .where("deployment_id", "=", deploymentId)
    .where("reason", "=", reason)
    .execute();
}

/** One halt of a deployment. */
export async function findHalt(db: Db, deploymentId: string, reason: HaltReason): Promise<DeploymentHalt | undefined> {
  return db
    .selectFrom("deployment_halts")
    .selectAll()
    .where("deployment_id", "=", deploymentId)
    .where("reason", "=", reason)
    .executeTakeFirst();
}

/** The most recent halt of a deployment (what GetDeployment and `ctrl status` show). */
export async function latestHaltOf(db: Db, deploymentId: string): Promise<DeploymentHalt | undefined> {
  return db
    .selectFrom("deployment_halts")
    .selectAll()
    .where("deployment_id", "=", deploymentId)
    .orderBy("created_at", "desc")
    .limit(1)
    .executeTakeFirst();
}

/** Halts of an environment waiting for plan `planName` (to wake when that plan is set). */
export async function haltsWaitingForPlan(db: Db, projectId: string, environmentId: string, planName: string): Promise<DeploymentHalt[]> {
  return db
    .selectFrom("deployment_halts")
    .selectAll()
    .where("project_id", "=", projectId)
    .where("environment_id", "=", environmentId)
    .where("state", "=", "waiting_for_plan")
    .where("plan_name", "=", planName)
    .execute();
}
