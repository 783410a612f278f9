import { sql } from "kysely";
import type { Db } from "../pool.js";
import type { SentinelRolloutWebhookRow } from "../tables/sentinel-rollout-webhooks.js";

/** The notification a delivery record is about. */
export interface RolloutWebhookEventRef {
  eventId: string;
  rolloutId: string;
  seq: number;
  event: string;
}

/** The delivery record of one notification, or undefined before its first attempt. */
export async function findRolloutWebhook(db: Db, eventId: string): Promise<SentinelRolloutWebhookRow | undefined> {
  return db.selectFrom("sentinel_rollout_webhooks").selectAll().where("event_id", "=", eventId).executeTakeFirst();
}

/**
 * Records that a POST of the notification is about to begin (`in_flight`): creates the row as
 * `sending`, or counts one more attempt. A `delivered` or `given_up` row keeps its status.
 */
export async function beginRolloutWebhookAttempt(db: Db, ref: RolloutWebhookEventRef, now: number): Promise<void> {
  await sql`INSERT INTO sentinel_rollout_webhooks (event_id, rollout_id, seq, event, status, attempts, in_flight, created_at, updated_at)
    VALUES (${ref.eventId}, ${ref.rolloutId}, ${ref.seq}, ${ref.event}, 'sending', 1, TRUE, ${now}, ${now})
    ON DUPLICATE KEY UPDATE attempts = attempts + 1, in_flight = TRUE, updated_at = VALUES(updated_at)`.execute(db);
}

/** Records the receiver's 2xx: from now on the notification is never POSTed again. */
export async function markRolloutWebhookDelivered(db: Db, eventId: string, now: number): Promise<void> {
  await db
    .updateTable("sentinel_rollout_webhooks")
    .set({ status: "delivered", in_flight: 0, delivered_at: now, updated_at: now, last_error: null })
    .where("event_id", "=", eventId)
    .execute();
}

/** Records a failed attempt, which ended (`given_up` once the bounded retries ran out or the receiver refused). */
export async function recordRolloutWebhookFailure(db: Db, eventId: string, error: string, givenUp: boolean, now: number): Promise<void> {
  await db
    .updateTable("sentinel_rollout_webhooks")
    .set({ last_error: error.slice(0, 2000), in_flight: 0, updated_at: now, ...(givenUp ? { status: "given_up" as const } : {}) })
    .where("event_id", "=", eventId)
    .where("status", "!=", "delivered")
    .execute();
}

/** Records that a POST was cut off by the worker's death: whether it arrived is unknown; it is not sent again. */
export async function markRolloutWebhookUnknown(db: Db, eventId: string, now: number): Promise<void> {
  await db
    .updateTable("sentinel_rollout_webhooks")
    .set({ status: "unknown", in_flight: 0, updated_at: now })
    .where("event_id", "=", eventId)
    .where("status", "=", "sending")
    .execute();
}

/** Every delivery record of a rollout, in event order. */
export async function listRolloutWebhooks(db: Db, rolloutId: string): Promise<SentinelRolloutWebhookRow[]> {
  return db.selectFrom("sentinel_rollout_webhooks").selectAll().where("rollout_id", "=", rolloutId).orderBy("seq").execute();
}
