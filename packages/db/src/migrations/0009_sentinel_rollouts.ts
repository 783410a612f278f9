import { sql, type Kysely } from "kysely";

/**
 * Fleet rollouts of the sentinel image (issue 12). Frozen.
 *
 * - `sentinels` gains the deploy bookkeeping of `SentinelService.deploy`: `deploy_status`
 *   (`progressing → ready | failed`), the awakeable the deploy waits on and the image it waits for
 *   (ctrl-api resolves it when an agent reports that image healthy), and the last failure the agent
 *   reported (`image_pull_failed: …`, `start_failed: …`) with the image it is about, so a retried deploy sees a failure that
 *   was reported before it armed its awakeable.
 * - `sentinel_rollouts` mirrors the `SentinelRolloutService` state (the virtual object is the source
 *   of truth; this is what ctrl-api reads), one row per rollout, kept as history.
 * - `sentinel_rollout_targets`: one row per target sentinel of a rollout, in rollout order.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("sentinels")
    .addColumn("deploy_status", "varchar(32)")
    .addColumn("deploy_awakeable_id", "varchar(255)")
    .addColumn("deploy_image", "varchar(2048)")
    .addColumn("failure_reason", "text")
    // The image whose instances failed: a late failure of the previous image never fails a deploy of the new one.
    .addColumn("failure_image", "varchar(2048)")
    .execute();

  await db.schema
    .createTable("sentinel_rollouts")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("state", "varchar(32)", (c) => c.notNull())
    .addColumn("image", "varchar(2048)", (c) => c.notNull())
    // JSON array of cumulative percentages.
    .addColumn("wave_percentages", "varchar(255)", (c) => c.notNull())
    .addColumn("current_wave", "integer", (c) => c.notNull())
    .addColumn("total_targets", "integer", (c) => c.notNull())
    .addColumn("succeeded", "integer", (c) => c.notNull())
    .addColumn("failed", "integer", (c) => c.notNull())
    .addColumn("created_by", "varchar(255)", (c) => c.notNull())
    // The whole state as the virtual object holds it (minus the webhook URL), for GetRollout/Watch.
    .addColumn("state_json", sql`longtext`, (c) => c.notNull())
    // Bumped on every mirrored change: WatchRollout streams when it moves.
    .addColumn("revision", "integer", (c) => c.notNull())
    .addColumn("started_at", "bigint", (c) => c.notNull())
    .addColumn("finished_at", "bigint")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("sentinel_rollouts_started").on("sentinel_rollouts").columns(["started_at"]).execute();

  await db.schema
    .createTable("sentinel_rollout_targets")
    .addColumn("rollout_id", "varchar(64)", (c) => c.notNull())
    .addColumn("sentinel_id", "varchar(64)", (c) => c.notNull())
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("wave", "integer", (c) => c.notNull())
    .addColumn("region", "varchar(64)", (c) => c.notNull())
    .addColumn("environment_id", "varchar(64)", (c) => c.notNull())
    .addColumn("previous_image", "varchar(2048)", (c) => c.notNull())
    .addColumn("outcome", "varchar(32)", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("sentinel_rollout_targets_pk", ["rollout_id", "sentinel_id"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("sentinel_rollout_targets").ifExists().execute();
  await db.schema.dropTable("sentinel_rollouts").ifExists().execute();
  await db.schema
    .alterTable("sentinels")
    .dropColumn("deploy_status")
    .dropColumn("deploy_awakeable_id")
    .dropColumn("deploy_image")
    .dropColumn("failure_reason")
    .dropColumn("failure_image")
    .execute();
}
