import { sql, type Kysely } from "kysely";

/**
 * Halt supervision (issue 14, docs/halt-contract.md). Frozen.
 *
 * - `upgrade_plans`: append-only and versioned. Every change of a plan (project, environment, name)
 *   is a new row with the next `version`; the highest version wins; `deleted = 1` is a tombstone.
 *   History is never rewritten.
 * - `deployment_halts`: the supervisor's durable record of one halt, keyed by deployment + reason.
 *   It holds what the workload said (plan, height, info, exit code), what the supervisor decided
 *   (`action`, `state`, the replacing deployment) and when the page was triggered and resolved, so
 *   a halt is acted on and paged once even across worker restarts and repeated agent reports.
 * - `instances.halt_detail`: the structured intent the agent read from the app's status path
 *   (JSON `{reason, plan_name, height, info, announced_at}`).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("upgrade_plans")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("project_id", "varchar(64)", (c) => c.notNull())
    .addColumn("environment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("name", "varchar(255)", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    // Null on a tombstone.
    .addColumn("image", "varchar(2048)")
    .addColumn("min_height", "bigint")
    .addColumn("deleted", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("created_by", "varchar(255)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("upgrade_plans_version", ["project_id", "environment_id", "name", "version"])
    .execute();

  await db.schema
    .createTable("deployment_halts")
    .addColumn("deployment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("reason", "varchar(64)", (c) => c.notNull())
    .addColumn("workspace_id", "varchar(64)", (c) => c.notNull())
    .addColumn("project_id", "varchar(64)", (c) => c.notNull())
    .addColumn("environment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("instance", "varchar(255)", (c) => c.notNull())
    .addColumn("exit_code", "integer")
    .addColumn("plan_name", "varchar(255)")
    .addColumn("height", "bigint")
    .addColumn("info", "text")
    .addColumn("action", "varchar(32)", (c) => c.notNull())
    .addColumn("state", "varchar(32)", (c) => c.notNull())
    .addColumn("condition", "varchar(64)")
    .addColumn("replaced_by_deployment_id", "varchar(64)")
    .addColumn("message", "text")
    .addColumn("paged_at", "bigint")
    .addColumn("resolved_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("deployment_halts_pk", ["deployment_id", "reason"])
    .execute();
  await db.schema
    .createIndex("deployment_halts_waiting")
    .on("deployment_halts")
    .columns(["project_id", "environment_id", "state"])
    .execute();

  await db.schema.alterTable("instances").addColumn("halt_detail", sql`text`).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("instances").dropColumn("halt_detail").execute();
  await db.schema.dropTable("deployment_halts").ifExists().execute();
  await db.schema.dropTable("upgrade_plans").ifExists().execute();
}
