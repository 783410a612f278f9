import { sql, type Kysely } from "kysely";

/**
 * Deployment rollouts (issue 13). Frozen.
 *
 * - `environments.rollout_policy`: the policy spec (JSON, `@ctrl/rollout`'s stored form); null = the
 *   default (blue-green, roll back on failure).
 * - `deployments.rollout_policy`: the policy snapshotted when the deployment was created, so changing
 *   the environment's policy never changes a rollout already running.
 * - `deployment_rollouts`: one row per deployment with a rollout — the ONE place its state and the
 *   operators' control state live. ctrl-api writes `control_state` (pause/resume/cancel); the running
 *   workflow re-reads it before every step and writes `state`, the targets, the checkpoint and the
 *   failures. `revision` increases with every change (watchers stream when it moves).
 * - `region_traffic_splits`: while a rollout runs, the environment's shared hostnames (sticky
 *   `branch`/`environment`/`live` routes) still point at the stable deployment in `frontline_routes`;
 *   in a region with a row here, frontline sends `canary_weight` % of new clients to the canary
 *   deployment (sticky per client by cookie). Weight 100 = the region is cut over. The final switch
 *   moves `frontline_routes` and deletes the rows; a rollback deletes them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("environments").addColumn("rollout_policy", "text").execute();
  await db.schema.alterTable("deployments").addColumn("rollout_policy", "text").execute();
  await db.schema
    .createTable("deployment_rollouts")
    .addColumn("deployment_id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("project_id", "varchar(64)", (c) => c.notNull())
    .addColumn("environment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("previous_deployment_id", "varchar(64)")
    .addColumn("strategy", "varchar(32)", (c) => c.notNull())
    .addColumn("state", "varchar(32)", (c) => c.notNull())
    .addColumn("control_state", "varchar(32)", (c) => c.notNull())
    // JSON: [[region, …], …] in order.
    .addColumn("batches", "text", (c) => c.notNull())
    // JSON: [{region, state, weight, startedAt, cutOverAt}, …].
    .addColumn("targets", sql`mediumtext`, (c) => c.notNull())
    // JSON: {batchIndex, batchCount, stepIndex, updatedAt}.
    .addColumn("checkpoint", "text", (c) => c.notNull())
    // JSON: [{target, kind, message, observed}, …].
    .addColumn("failure_details", sql`mediumtext`, (c) => c.notNull())
    // JSON: the last analysis result, or null.
    .addColumn("last_analysis", "text")
    .addColumn("revision", "integer", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .execute();
  await db.schema
    .createTable("region_traffic_splits")
    .addColumn("environment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("region", "varchar(64)", (c) => c.notNull())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("stable_deployment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("canary_deployment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("canary_weight", "integer", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("region_traffic_splits_pk", ["environment_id", "region"])
    .execute();
  await db.schema.createIndex("region_traffic_splits_updated").on("region_traffic_splits").columns(["updated_at"]).execute();
  await db.schema
    .createIndex("deployment_rollouts_environment")
    .on("deployment_rollouts")
    .columns(["environment_id", "created_at"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("region_traffic_splits").ifExists().execute();
  await db.schema.dropTable("deployment_rollouts").ifExists().execute();
  await db.schema.alterTable("deployments").dropColumn("rollout_policy").execute();
  await db.schema.alterTable("environments").dropColumn("rollout_policy").execute();
}
