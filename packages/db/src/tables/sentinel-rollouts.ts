import type { Selectable } from "kysely";

/** States of a fleet rollout (issue 12). */
export type SentinelRolloutState = "idle" | "in_progress" | "paused" | "cancelled" | "completed" | "rolling_back" | "rolled_back";

/** Mirror of one `SentinelRolloutService` rollout (the virtual object is the source of truth). */
export interface SentinelRolloutsTable {
  id: string;
  state: SentinelRolloutState;
  image: string;
  /** JSON array of cumulative percentages. */
  wave_percentages: string;
  current_wave: number;
  total_targets: number;
  succeeded: number;
  failed: number;
  created_by: string;
  /** The whole state as JSON (the webhook URL left out). */
  state_json: string;
  /** Increases with every mirrored change. */
  revision: number;
  started_at: number;
  finished_at: number | null;
  updated_at: number;
}
export type SentinelRolloutRow = Selectable<SentinelRolloutsTable>;

/** Outcome of one target sentinel within a rollout. */
export type SentinelRolloutOutcome =
  | "pending"
  | "deploying"
  | "succeeded"
  | "failed"
  | "skipped"
  | "reverting"
  | "reverted"
  | "revert_failed";

/** One target sentinel of a rollout, in rollout order (`position`). */
export interface SentinelRolloutTargetsTable {
  rollout_id: string;
  sentinel_id: string;
  position: number;
  wave: number;
  region: string;
  environment_id: string;
  previous_image: string;
  outcome: SentinelRolloutOutcome;
  reason: string | null;
  updated_at: number;
}
export type SentinelRolloutTargetRow = Selectable<SentinelRolloutTargetsTable>;
