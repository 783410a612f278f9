import type { Transaction } from "kysely";
import type { Db } from "../pool.js";
import type { Database } from "../schema.js";

type DbOrTrx = Db | Transaction<Database>;

/** One variable as sent to an agent: the ciphertext is bound to `vaultContext.environmentVariable(environmentId, key)`. */
export interface SealedVariable {
  key: string;
  encrypted_value: string;
}

/**
 * Copies the environment's variables (ciphertexts as they are) into the deployment's snapshot and
 * stamps `deployments.variables_snapshot_at`. Run it in the transaction that inserts the deployment,
 * so a deployment never exists without the configuration it was created with. Returns the number of
 * variables copied.
 */
export async function snapshotDeploymentVariables(
  trx: DbOrTrx,
  s: { deploymentId: string; environmentId: string; now: number },
): Promise<number> {
  const result = await trx
    .insertInto("deployment_variables")
    .columns(["deployment_id", "key", "workspace_id", "environment_id", "encrypted_value", "created_at"])
    .expression((eb) =>
      eb
        .selectFrom("environment_variables")
        .select((v) => [
          v.val(s.deploymentId).as("deployment_id"),
          "key",
          "workspace_id",
          "environment_id",
          "encrypted_value",
          v.val(s.now).as("created_at"),
        ])
        .where("environment_id", "=", s.environmentId),
    )
    .executeTakeFirst();
  await trx.updateTable("deployments").set({ variables_snapshot_at: s.now }).where("id", "=", s.deploymentId).execute();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/**
 * The variables a deployment runs with, ordered by key: its snapshot when it has one; for a
 * deployment created before snapshots existed (or an id without a row) the environment's current
 * variables, as before.
 */
export async function listVariablesOfDeployment(db: DbOrTrx, deploymentId: string, environmentId: string): Promise<SealedVariable[]> {
  const deployment = await db.selectFrom("deployments").select("variables_snapshot_at").where("id", "=", deploymentId).executeTakeFirst();
  if (deployment?.variables_snapshot_at != null) {
    return db
      .selectFrom("deployment_variables")
      .select(["key", "encrypted_value"])
      .where("deployment_id", "=", deploymentId)
      .orderBy("key")
      .execute();
  }
  return db
    .selectFrom("environment_variables")
    .select(["key", "encrypted_value"])
    .where("environment_id", "=", environmentId)
    .orderBy("key")
    .execute();
}

/** The names of the variables a deployment runs with (see {@link listVariablesOfDeployment}), ordered. */
export async function listVariableKeysOfDeployment(db: DbOrTrx, deploymentId: string, environmentId: string): Promise<string[]> {
  return (await listVariablesOfDeployment(db, deploymentId, environmentId)).map((v) => v.key);
}
