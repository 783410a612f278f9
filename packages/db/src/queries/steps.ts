import { sql } from "kysely";
import type { Db } from "../pool.js";
import type { DeploymentStep, StepStatus } from "../tables/deployment-steps.js";

/** One step write: `running` opens a step, any other status closes it. */
export interface StepWrite {
  deploymentId: string;
  step: string;
  status: StepStatus;
  message: string;
  errorMessage?: string | null;
  now: number;
}

/**
 * Upserts the row keyed by (deployment_id, step): a retried or replayed step updates its row instead
 * of appending a duplicate. `started_at` is kept from the first write; `ended_at` is set when the
 * step leaves `running`.
 */
export async function upsertDeploymentStep(db: Db, write: StepWrite): Promise<void> {
  const ended = write.status === "running" ? null : write.now;
  await db
    .insertInto("deployment_steps")
    .values({
      deployment_id: write.deploymentId,
      step: write.step,
      status: write.status,
      message: write.message,
      error_message: write.errorMessage ?? null,
      started_at: write.now,
      ended_at: ended,
      updated_at: write.now,
    })
    .onDuplicateKeyUpdate({
      status: write.status,
      message: write.message,
      error_message: write.errorMessage ?? null,
      ended_at: ended,
      updated_at: write.now,
      // A closed step re-opened by a replay keeps its original start.
      started_at: sql<number>`started_at`,
    })
    .execute();
}

/** The steps of a deployment in the order they started. */
export async function listDeploymentSteps(db: Db, deploymentId: string): Promise<DeploymentStep[]> {
  return db
    .selectFrom("deployment_steps")
    .selectAll()
    .where("deployment_id", "=", deploymentId)
    .orderBy("started_at")
    .orderBy("id")
    .execute();
}

/**
 * Records `step` as failed with `errorMessage`: inserts it (started and ended `now`) or, when the
 * step exists, closes it as failed keeping its message and start.
 */
export async function recordFailedStep(
  db: Db,
  failure: { deploymentId: string; step: string; message: string; errorMessage: string; now: number },
): Promise<void> {
  await db
    .insertInto("deployment_steps")
    .values({
      deployment_id: failure.deploymentId,
      step: failure.step,
      status: "failed",
      message: failure.message,
      error_message: failure.errorMessage,
      started_at: failure.now,
      ended_at: failure.now,
      updated_at: failure.now,
    })
    .onDuplicateKeyUpdate({ status: "failed", error_message: failure.errorMessage, ended_at: failure.now, updated_at: failure.now })
    .execute();
}
