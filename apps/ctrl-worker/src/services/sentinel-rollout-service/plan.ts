import type { RolloutTargetCandidate } from "@ctrl/db";
import type { RolloutEvent, RolloutEventKind, RolloutState, RolloutTarget, RolloutWave, StepFinished } from "./api.js";

// The rollout's state machine as pure functions over the state: every handler loads the state,
// calls one of these, then applies the effects (sends, webhooks, mirror) in journaled steps. Kept
// free of Restate so the rules are unit-tested (plan.test.ts) and replay cannot diverge.

/** A sentinel deploy to start: `SentinelService.rolloutStep` on `sentinelId`. */
export interface Dispatch {
  sentinelId: string;
  image: string;
  step: number;
  mode: "forward" | "revert";
}

/** What a transition asks the handler to do. */
export interface Effects {
  dispatches: Dispatch[];
  events: RolloutEvent[];
  /** Positions of targets whose row changed (mirrored). */
  changed: Set<number>;
}

/** Empty effects. */
export function noEffects(): Effects {
  return { dispatches: [], events: [], changed: new Set() };
}

/** Why a wave list is invalid, or undefined. Rules: 1..20 strictly increasing integers in 1..100, ending at 100. */
export function waveListProblem(waves: unknown): string | undefined {
  if (!Array.isArray(waves) || waves.length === 0) return "wave_percentages must be a non-empty list";
  if (waves.length > 20) return `wave_percentages may have at most 20 entries (got ${waves.length})`;
  for (let i = 0; i < waves.length; i++) {
    const p = waves[i] as unknown;
    if (typeof p !== "number" || !Number.isInteger(p)) return `wave_percentages[${i}] must be an integer (got ${String(p)})`;
    if (p < 1 || p > 100) return `wave_percentages[${i}] must be between 1 and 100 (got ${p})`;
    if (i > 0 && p <= (waves[i - 1] as number))
      return `wave_percentages must be strictly increasing (${waves[i - 1]} then ${p} at index ${i})`;
  }
  if (waves[waves.length - 1] !== 100) return `wave_percentages must end at 100 (ends at ${waves[waves.length - 1]})`;
  return undefined;
}

/** Wave n covers ceil(p_n × N / 100) targets cumulatively; a wave that adds none is skipped. */
export function planWaves(percentages: number[], total: number): RolloutWave[] {
  let previous = 0;
  return percentages.map((percent, index) => {
    const cumulative = Math.ceil((percent * total) / 100);
    const size = cumulative - previous;
    previous = cumulative;
    return { index, percent, cumulative, size, status: size > 0 ? "pending" : "skipped" };
  });
}

/** The state of a new rollout over `candidates` (in their recorded order), before it starts. */
export function newRolloutState(input: {
  id: string;
  image: string;
  wavePercentages: number[];
  concurrency: number;
  createdBy: string;
  webhookHost?: string;
  candidates: RolloutTargetCandidate[];
  now: number;
}): RolloutState {
  const waves = planWaves(input.wavePercentages, input.candidates.length);
  const targets: RolloutTarget[] = input.candidates.map((c, position) => ({
    sentinelId: c.sentinelId,
    region: c.region,
    environmentId: c.environmentId,
    position,
    wave: waves.findIndex((w) => position < w.cumulative),
    previousImage: c.image,
    outcome: "pending",
    step: 0,
    changed: false,
    updatedAt: input.now,
  }));
  return {
    id: input.id,
    state: "in_progress",
    image: input.image,
    wavePercentages: input.wavePercentages,
    concurrency: input.concurrency,
    currentWave: -1,
    waves,
    targets,
    createdBy: input.createdBy,
    startedAt: input.now,
    updatedAt: input.now,
    ...(input.webhookHost ? { webhookHost: input.webhookHost } : {}),
    eventSeq: 0,
  };
}

function failuresOf(targets: RolloutTarget[]) {
  return targets.map((t) => ({ sentinel_id: t.sentinelId, reason: t.reason ?? "unknown", message: t.message ?? "" }));
}

/** Adds a notification (numbered in the state, so a replay re-derives the same ids). */
export function emit(s: RolloutState, fx: Effects, event: RolloutEventKind, now: number, extra: Partial<RolloutEvent> = {}): void {
  s.eventSeq += 1;
  const base = `fleet rollout ${s.id} of ${s.image}`;
  const texts: Record<RolloutEventKind, string> = {
    started: `${base} started: ${s.targets.length} sentinels in waves ${s.wavePercentages.join(", ")}%`,
    wave_started: `${base}: wave ${(extra.wave ?? 0) + 1} (${extra.percent}%) started`,
    wave_completed: `${base}: wave ${(extra.wave ?? 0) + 1} (${extra.percent}%) completed`,
    paused: `${base} paused${
      extra.failures?.length
        ? `: ${extra.failures.length} sentinel(s) failed (${extra.failures
            .slice(0, 5)
            .map((f) => `${f.sentinel_id}: ${f.reason}`)
            .join("; ")})`
        : ""
    }`,
    resumed: `${base} resumed`,
    cancelled: `${base} cancelled`,
    rollback_started: `${base}: rolling back ${extra.reverted ?? 0} sentinel(s) to their previous image`,
    rollback_completed: `${base}: rollback completed (${extra.reverted ?? 0} sentinel(s) reverted)`,
    completed: `${base} completed: every sentinel runs the new image`,
  };
  fx.events.push({
    id: `${s.id}:${s.eventSeq}`,
    seq: s.eventSeq,
    event,
    text: texts[event],
    rollout_id: s.id,
    image: s.image,
    state: s.state,
    at: now,
    ...extra,
  });
}

function touch(s: RolloutState, t: RolloutTarget, fx: Effects, now: number) {
  t.updatedAt = now;
  fx.changed.add(t.position);
}

/**
 * Moves an `in_progress` rollout on: starts deploys up to `concurrency` among the pending targets
 * of the waves reached so far; when nothing is in flight or pending, closes the wave (pausing on
 * any failure) and opens the next, until the last: `completed` only when every target succeeded,
 * else `paused` listing the skipped ones. A `rolling_back` rollout starts pending reverts and ends
 * `rolled_back` once none is left. Other states: nothing (pause/cancel stop new starts).
 */
export function advance(s: RolloutState, now: number, fx: Effects): void {
  s.updatedAt = now;
  if (s.state === "rolling_back") {
    advanceRollback(s, now, fx);
    return;
  }
  while (s.state === "in_progress") {
    const inFlight = s.targets.filter((t) => t.outcome === "deploying").length;
    const pending = s.targets.filter((t) => t.outcome === "pending" && t.wave <= s.currentWave);
    const starts = pending.slice(0, Math.max(0, s.concurrency - inFlight));
    for (const t of starts) {
      t.outcome = "deploying";
      t.step += 1;
      t.changed = true;
      delete t.reason;
      delete t.message;
      delete t.exitCode;
      touch(s, t, fx, now);
      fx.dispatches.push({ sentinelId: t.sentinelId, image: s.image, step: t.step, mode: "forward" });
    }
    if (inFlight + starts.length > 0 || pending.length > starts.length) return;
    // Everything reached so far has an outcome: close the wave.
    const failed = s.targets.filter((t) => t.wave <= s.currentWave && t.outcome === "failed");
    if (failed.length) {
      s.state = "paused";
      s.pausedReason = "failures";
      emit(s, fx, "paused", now, {
        failures: failuresOf(failed),
        ...(s.currentWave >= 0 ? { wave: s.currentWave, percent: s.waves[s.currentWave]!.percent } : {}),
      });
      return;
    }
    const current = s.waves[s.currentWave];
    if (current && current.status === "running") {
      current.status = "completed";
      current.endedAt = now;
      emit(s, fx, "wave_completed", now, { wave: current.index, percent: current.percent });
    }
    const next = s.waves.find((w) => w.index > s.currentWave && w.size > 0);
    if (!next) {
      const skipped = s.targets.filter((t) => t.outcome === "skipped");
      if (skipped.length) {
        s.state = "paused";
        s.pausedReason = "skipped";
        emit(s, fx, "paused", now, { failures: failuresOf(skipped) });
      } else {
        s.state = "completed";
        s.finishedAt = now;
        delete s.pausedReason;
        emit(s, fx, "completed", now);
      }
      return;
    }
    s.currentWave = next.index;
    next.status = "running";
    next.startedAt = now;
    emit(s, fx, "wave_started", now, { wave: next.index, percent: next.percent });
  }
}

function advanceRollback(s: RolloutState, now: number, fx: Effects): void {
  const reverting = s.targets.filter((t) => t.revert === "reverting").length;
  const pending = s.targets.filter((t) => t.revert === "pending");
  const starts = pending.slice(0, Math.max(0, s.concurrency - reverting));
  for (const t of starts) {
    t.revert = "reverting";
    t.step += 1;
    touch(s, t, fx, now);
    fx.dispatches.push({ sentinelId: t.sentinelId, image: t.previousImage, step: t.step, mode: "revert" });
  }
  if (reverting + starts.length > 0 || pending.length > starts.length) return;
  s.state = "rolled_back";
  s.finishedAt = now;
  const reverted = s.targets.filter((t) => t.revert === "reverted").length;
  emit(s, fx, "rollback_completed", now, { reverted });
}

/** Records a deploy result; returns false when it is stale (another rollout or an older step). */
export function recordStep(s: RolloutState, msg: StepFinished, now: number, fx: Effects): boolean {
  if (msg.rolloutId !== s.id) return false;
  const t = s.targets.find((x) => x.sentinelId === msg.sentinelId);
  if (!t || t.step !== msg.step) return false;
  const r = msg.result;
  if (msg.mode === "forward") {
    if (t.outcome !== "deploying") return false;
    t.outcome = r.ok ? "succeeded" : "failed";
    if (!r.ok) {
      t.reason = r.reason;
      t.message = r.message;
      if (r.exitCode !== undefined) t.exitCode = r.exitCode;
    }
  } else {
    if (t.revert !== "reverting") return false;
    t.revert = r.ok ? "reverted" : "revert_failed";
    if (!r.ok) t.revertMessage = `${r.reason}: ${r.message}`;
  }
  touch(s, t, fx, now);
  return true;
}

/** `resume`: failed targets are skipped (default) or deployed again first (`retryFailed`). */
export function resumeRollout(s: RolloutState, retryFailed: boolean, now: number, fx: Effects): void {
  for (const t of s.targets) {
    if (t.outcome === "failed" || (retryFailed && t.outcome === "skipped")) {
      t.outcome = retryFailed ? "pending" : "skipped";
      touch(s, t, fx, now);
    }
  }
  s.state = "in_progress";
  delete s.pausedReason;
  emit(s, fx, "resumed", now);
  advance(s, now, fx);
}

/**
 * `rollbackAll`: every target whose desired image the rollout switched — failed and skipped ones
 * included, and those still in flight (their revert queues behind the forward deploy on the
 * exclusive SentinelService, and the forward result becomes stale) — is redeployed to its
 * previous image. Returns how many.
 */
export function startRollback(s: RolloutState, now: number, fx: Effects): number {
  let count = 0;
  for (const t of s.targets) {
    if (!t.changed) continue;
    if (t.outcome === "deploying") (t.outcome = "failed"), (t.reason ??= "interrupted"), (t.message ??= "rolled back while deploying");
    t.revert = "pending";
    touch(s, t, fx, now);
    count++;
  }
  s.state = "rolling_back";
  s.revertCount = count;
  delete s.pausedReason;
  emit(s, fx, "rollback_started", now, { reverted: count });
  advance(s, now, fx);
  return count;
}

/** Counts for summaries. */
export function countOutcomes(s: RolloutState): { succeeded: number; failed: number; pending: number; deploying: number; skipped: number } {
  const c = { succeeded: 0, failed: 0, pending: 0, deploying: 0, skipped: 0 };
  for (const t of s.targets) {
    if (t.outcome === "succeeded") c.succeeded++;
    else if (t.outcome === "failed") c.failed++;
    else if (t.outcome === "deploying") c.deploying++;
    else if (t.outcome === "skipped") c.skipped++;
    else c.pending++;
  }
  return c;
}
