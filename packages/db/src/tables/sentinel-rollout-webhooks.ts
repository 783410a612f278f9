import type { Selectable } from "kysely";

/** Delivery status of one rollout webhook notification. */
/**
 * Delivery status of one rollout webhook notification. `unknown`: the worker died while a POST was
 * under way, so whether the receiver got it is unknown; it is not sent again.
 */
export type SentinelRolloutWebhookStatus = "sending" | "delivered" | "given_up" | "unknown";

/** One fleet rollout notification's delivery record, keyed by its event id (`<rolloutId>:<seq>`). */
export interface SentinelRolloutWebhooksTable {
  event_id: string;
  rollout_id: string;
  seq: number;
  /** The event kind (`started`, `wave_started`, …). */
  event: string;
  status: SentinelRolloutWebhookStatus;
  /** POST attempts begun, across retries and replays. */
  attempts: number;
  /** A POST is under way (set before it, cleared when it ends). Set at a replay: the worker died mid-POST. */
  in_flight: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}
export type SentinelRolloutWebhookRow = Selectable<SentinelRolloutWebhooksTable>;
