/**
 * Where a deployment's rollout is. `blocked`: a batch failed under `failure_action=pause` and waits
 * for an operator; `degraded`: cancelled with some regions cut over (they stay until an explicit
 * rollback or promote); `failed`: it could not reach or restore a serving state.
 */
export const rolloutStates = ["pending", "starting", "rolling", "stable", "blocked", "degraded", "failed", "rolled_back"] as const;
export type RolloutState = (typeof rolloutStates)[number];

/** What operators asked of a running rollout; the workflow re-reads it before every step. */
export const controlStates = ["active", "paused", "cancel_requested"] as const;
export type ControlState = (typeof controlStates)[number];

/** States a rollout never leaves. */
export const terminalRolloutStates: readonly RolloutState[] = ["stable", "degraded", "failed", "rolled_back"];

export const isTerminalRollout = (state: RolloutState): boolean => terminalRolloutStates.includes(state);

export type ControlOperation = "pause" | "resume" | "cancel";

export type ControlDecision = { ok: true; control: ControlState } | { ok: false; reason: string };

/**
 * The control state an operation leads to, or why it is refused (the caller answers
 * `failed_precondition` with the reason). Pause: an active rollout that has not finished. Resume: a
 * paused or blocked one. Cancel: any unfinished one not already cancelling.
 */
export function decideControl(operation: ControlOperation, state: RolloutState, control: ControlState): ControlDecision {
  if (isTerminalRollout(state))
    return { ok: false, reason: `the rollout is ${state}; only a new deploy, a rollback or a promote changes it now` };
  if (control === "cancel_requested") return { ok: false, reason: "the rollout is being cancelled; wait for it to stop" };
  switch (operation) {
    case "pause":
      if (control === "paused") return { ok: false, reason: "the rollout is already paused; resume or cancel it" };
      if (state === "blocked") return { ok: false, reason: "the rollout is blocked by a failure; resume, cancel or roll back" };
      return { ok: true, control: "paused" };
    case "resume":
      if (control === "active" && state !== "blocked")
        return { ok: false, reason: `the rollout is ${state} and not paused; pause or cancel it` };
      return { ok: true, control: "active" };
    case "cancel":
      return { ok: true, control: "cancel_requested" };
  }
}

/** The kinds of failure a rollout records per target (region). */
export const failureKinds = [
  "start_failed",
  "image_pull_failed",
  "readiness_timeout",
  "crashed_after_ready",
  "placement_failed",
  "analysis_failed",
  "cancelled",
] as const;
export type FailureKind = (typeof failureKinds)[number];

/** One failure of a rollout: which target, what kind, in words, and what was measured (analysis). */
export interface FailureDetail {
  target: string;
  kind: FailureKind;
  message: string;
  /** E.g. `{error_rate: 0.48, p99_latency_ms: 120, requests: 200, exit_code: 3}`. */
  observed: Record<string, number>;
}

/** Per region: `pending → starting → ready → cutting_over → cut_over`, or `failed` / `rolled_back`. */
export const targetStates = ["pending", "starting", "ready", "cutting_over", "cut_over", "failed", "rolled_back"] as const;
export type TargetState = (typeof targetStates)[number];

export interface RolloutTarget {
  region: string;
  state: TargetState;
  /** Percent of the region's traffic on the new deployment. */
  weight: number;
  startedAt: number | null;
  cutOverAt: number | null;
}
