import type { Selectable } from "kysely";

/** Delivery status of one rollout webhook notification. */
export type SentinelRolloutWebhookStatus = "sending" | "delivered" | "given_up";

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
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}
export type SentinelRolloutWebhookRow = Selectable<SentinelRolloutWebhooksTable>;
