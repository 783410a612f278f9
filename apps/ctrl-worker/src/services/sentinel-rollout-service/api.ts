import type { SentinelRolloutOutcome, SentinelRolloutState } from "@ctrl/db";
import type { SentinelDeployResult } from "../sentinel-service/api.js";
import type { createSentinelRolloutService } from "./service.js";

/**
 * Contract of `SentinelRolloutService` (virtual object; the only accepted key is `singleton`):
 * fleet rollouts of the sentinel image in waves of cumulative percentages. ctrl-api calls it:
 *
 *   ingress.objectClient<SentinelRolloutServiceApi>({ name: sentinelRolloutServiceName }, singletonKey).rollout({ image });
 *
 * Legal operations per state (anything else is `failed_precondition` naming the state):
 *   idle | completed | cancelled | rolled_back → rollout
 *   in_progress → pause, cancel
 *   paused → resume, cancel, rollbackAll
 *   cancelled → rollbackAll (and rollout)
 *   rolling_back → nothing (wait for rolled_back)
 *
 * Every handler is short: deploys run in `SentinelService.rolloutStep` (one per target and step),
 * which sends its result back to `onStepFinished`. So `pause` and `cancel` take effect between
 * any two sentinel deploys, mid-wave, and the state is re-read at every step.
 */
export { sentinelRolloutServiceName } from "../../contract.js";
export { sentinelRolloutKey as singletonKey } from "../../contract.js";
/** Default cumulative wave percentages. */
export const defaultWavePercentages = [1, 5, 25, 50, 100];
/** Default number of sentinels deployed at once within a wave. */
export const defaultConcurrency = 10;

export type { SentinelRolloutOutcome as RolloutTargetOutcome, SentinelRolloutState as RolloutStateName };

/** Input of `rollout`. */
export interface RolloutRequest {
  image: string;
  /** Cumulative percentages: strictly increasing integers in 1..100, ending at 100, at most 20. */
  wavePercentages?: number[];
  /** Slack-compatible webhook: https, or http to a loopback address. */
  webhookUrl?: string;
  /** Sentinels deployed at once within a wave (1..100, default 10). */
  concurrency?: number;
  /** Who started it (ctrl-api passes the caller), for the record. */
  createdBy?: string;
}

/** Input of `resume`. */
export interface ResumeRequest {
  /** Deploy the failed (and skipped) sentinels again before going on; default: skip them. */
  retryFailed?: boolean;
}

/** Revert progress of a target during `rollbackAll`. */
export type RevertStatus = "pending" | "reverting" | "reverted" | "revert_failed";

/** One target sentinel of a rollout. */
export interface RolloutTarget {
  sentinelId: string;
  region: string;
  environmentId: string;
  /** Position in the order recorded at start. */
  position: number;
  /** Index of the wave that covers it. */
  wave: number;
  /** The image it ran when the rollout started (what rollbackAll restores). */
  previousImage: string;
  outcome: SentinelRolloutOutcome;
  reason?: string;
  message?: string;
  exitCode?: number;
  /** Dispatch counter: a result for another step is stale and ignored. */
  step: number;
  /** Set once the rollout switched its desired image (it was dispatched at least once). */
  changed: boolean;
  revert?: RevertStatus;
  revertMessage?: string;
  updatedAt: number;
}

/** One wave. */
export interface RolloutWave {
  index: number;
  percent: number;
  /** Cumulative number of targets covered up to and including this wave. */
  cumulative: number;
  /** Targets of this wave alone (0: skipped). */
  size: number;
  status: "pending" | "running" | "completed" | "skipped";
  startedAt?: number;
  endedAt?: number;
}

/** The whole state of a rollout (what `status` returns and MySQL mirrors). */
export interface RolloutState {
  id: string;
  state: SentinelRolloutState;
  image: string;
  wavePercentages: number[];
  concurrency: number;
  /** Index of the wave in progress (or last reached); -1 before the first. */
  currentWave: number;
  waves: RolloutWave[];
  targets: RolloutTarget[];
  createdBy: string;
  startedAt: number;
  updatedAt: number;
  finishedAt?: number;
  /** Why it is paused: `failures`, `manual`, `skipped`. */
  pausedReason?: "failures" | "manual" | "skipped";
  /** Scheme and host of the webhook, never the whole URL (it may carry a secret path). */
  webhookHost?: string;
  /** Notifications issued so far (each has sequence number 1..eventSeq). */
  eventSeq: number;
  /** Number of targets `rollbackAll` set out to revert. */
  revertCount?: number;
}

/** Input of `onStepFinished` (internal: sent by SentinelService.rolloutStep). */
export interface StepFinished {
  rolloutId: string;
  sentinelId: string;
  step: number;
  mode: "forward" | "revert";
  result: SentinelDeployResult;
}

/** A webhook event kind. */
export type RolloutEventKind =
  | "started"
  | "wave_started"
  | "wave_completed"
  | "paused"
  | "resumed"
  | "cancelled"
  | "rollback_started"
  | "rollback_completed"
  | "completed";

/** A notification: what the webhook receives (Slack-compatible `text` plus structured fields). */
export interface RolloutEvent {
  /** `<rolloutId>:<seq>`: unique, for receivers that de-duplicate. */
  id: string;
  seq: number;
  event: RolloutEventKind;
  text: string;
  rollout_id: string;
  image: string;
  state: SentinelRolloutState;
  wave?: number;
  percent?: number;
  failures?: Array<{ sentinel_id: string; reason: string; message: string }>;
  reverted?: number;
  at: number;
}

/** Result of `rollbackAll`. */
export interface RollbackAllResult {
  rolloutId: string;
  /** Sentinels whose desired image is being restored. */
  reverted: number;
}

/** Type-only handle of the service definition. */
export type SentinelRolloutServiceApi = ReturnType<typeof createSentinelRolloutService>;
