import type { Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import type { ResumeRequest, RollbackAllResult, RolloutState, StepFinished } from "./api.js";
import { advance, emit, noEffects, recordStep, resumeRollout, startRollback } from "./plan.js";
import { commitTransition, requireSingleton, requireState, stateKey } from "./transition.js";

// The short exclusive handlers that steer a running rollout. Each re-reads the state, so a
// pause or cancel is seen by the very next step result.

async function load(ctx: restate.ObjectContext): Promise<RolloutState | null> {
  requireSingleton(ctx);
  return (await ctx.get<RolloutState>(stateKey)) ?? null;
}

/** `pause`: no new wave and no new sentinel deploy starts; deploys in flight finish. */
export async function pauseRollout(ctx: restate.ObjectContext, db: Db): Promise<RolloutState> {
  const s = await load(ctx);
  requireState(s, "pause", ["in_progress"]);
  const now = await ctx.date.now();
  const fx = noEffects();
  s.state = "paused";
  s.pausedReason = "manual";
  s.updatedAt = now;
  emit(s, fx, "paused", now);
  await commitTransition(ctx, db, s, fx);
  return s;
}

/** `cancel`: takes effect mid-wave; sentinels keep whatever image they reached. */
export async function cancelRollout(ctx: restate.ObjectContext, db: Db): Promise<RolloutState> {
  const s = await load(ctx);
  requireState(s, "cancel", ["in_progress", "paused"]);
  const now = await ctx.date.now();
  const fx = noEffects();
  s.state = "cancelled";
  delete s.pausedReason;
  s.updatedAt = now;
  s.finishedAt = now;
  emit(s, fx, "cancelled", now);
  await commitTransition(ctx, db, s, fx);
  return s;
}

/** `resume({retryFailed?})`. */
export async function resume(ctx: restate.ObjectContext, db: Db, req: ResumeRequest | undefined): Promise<RolloutState> {
  const s = await load(ctx);
  requireState(s, "resume", ["paused"]);
  const now = await ctx.date.now();
  const fx = noEffects();
  resumeRollout(s, req?.retryFailed === true, now, fx);
  await commitTransition(ctx, db, s, fx);
  return s;
}

/** `rollbackAll`: see plan.ts `startRollback`. */
export async function rollbackAll(ctx: restate.ObjectContext, db: Db): Promise<RollbackAllResult> {
  const s = await load(ctx);
  requireState(s, "roll back", ["paused", "cancelled"]);
  const now = await ctx.date.now();
  const fx = noEffects();
  const reverted = startRollback(s, now, fx);
  await commitTransition(ctx, db, s, fx);
  return { rolloutId: s.id, reverted };
}

/** `onStepFinished` (internal): records a deploy result and moves the rollout on. */
export async function onStepFinished(ctx: restate.ObjectContext, db: Db, msg: StepFinished): Promise<void> {
  const s = await load(ctx);
  if (!s) return;
  const now = await ctx.date.now();
  const fx = noEffects();
  if (!recordStep(s, msg, now, fx)) {
    ctx.console.info({ rolloutId: msg.rolloutId, sentinelId: msg.sentinelId, step: msg.step }, "stale rollout step result ignored");
    return;
  }
  advance(s, now, fx);
  await commitTransition(ctx, db, s, fx);
}
