import type { Kysely } from "kysely";

/**
 * Every deployment snapshots the environment variables it was created with (issue 15), so a rollback
 * or a restart of an old deployment runs exactly the configuration it ran before. Frozen.
 *
 * - `deployment_variables`: one row per (deployment, key), written in the transaction that inserts
 *   the deployment. `encrypted_value` is the environment variable's ciphertext copied as is: it stays
 *   bound to `vaultContext.environmentVariable(environment_id, key)` and is never decrypted to copy.
 * - `deployments.variables_snapshot_at`: when the snapshot was taken (possibly of zero variables);
 *   null for a deployment created before this migration, whose agents keep receiving the
 *   environment's current values as before.
 * - `deployments.archived_at`: set when the deployment was deleted (DeleteDeployment): its instances
 *   are stopped and its routes removed; the row, its steps and its snapshot stay for the record.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("deployments").addColumn("variables_snapshot_at", "bigint").execute();
  await db.schema.alterTable("deployments").addColumn("archived_at", "bigint").execute();
  await db.schema
    .createTable("deployment_variables")
    .addColumn("deployment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("key", "varchar(255)", (c) => c.notNull())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("environment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("encrypted_value", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("deployment_variables_pk", ["deployment_id", "key"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("deployment_variables").ifExists().execute();
  await db.schema.alterTable("deployments").dropColumn("archived_at").execute();
  await db.schema.alterTable("deployments").dropColumn("variables_snapshot_at").execute();
}
