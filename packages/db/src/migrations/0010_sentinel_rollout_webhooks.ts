import type { Kysely } from "kysely";

/**
 * Delivery record of fleet rollout webhooks (issue 12), one row per notification, keyed by its
 * event id (`<rolloutId>:<seq>`). `SentinelRolloutNotifier.notify` reads it before a POST and
 * writes `delivered` right after the receiver's 2xx, in the same step, so a replay after a crash
 * does not POST again. `in_flight` is set while a POST is under way and cleared when it ends (2xx or
 * a known failure); a replay that finds it set knows the worker died mid-POST and does not POST
 * again either (`unknown`). `status`: `sending` (`attempts` counts them), `delivered`, `given_up`
 * (the bounded retries ran out or the receiver refused it), `unknown`. Frozen.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("sentinel_rollout_webhooks")
    .addColumn("event_id", "varchar(96)", (c) => c.primaryKey())
    .addColumn("rollout_id", "varchar(64)", (c) => c.notNull())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("event", "varchar(32)", (c) => c.notNull())
    .addColumn("status", "varchar(16)", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("in_flight", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("last_error", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("delivered_at", "bigint")
    .execute();
  await db.schema.createIndex("sentinel_rollout_webhooks_rollout").on("sentinel_rollout_webhooks").columns(["rollout_id", "seq"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("sentinel_rollout_webhooks").ifExists().execute();
}
