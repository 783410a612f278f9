import type { Db } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import { sentinelRolloutNotifierName } from "../../contract.js";
import { terminal } from "../../errors.js";
import { sentinelServiceName, type SentinelServiceApi } from "../sentinel-service/api.js";
import { singletonKey, type RolloutState, type RolloutStateName } from "./api.js";
import { mirrorRollout } from "./mirror.js";
import type { Effects } from "./plan.js";
import type { createSentinelRolloutNotifier } from "./webhook.js";

type NotifierApi = ReturnType<typeof createSentinelRolloutNotifier>;

/** Object state keys. */
export const stateKey = "state";
export const webhookKey = "webhookUrl";

/** Only `singleton` is a valid key: one fleet, one rollout object. */
export function requireSingleton(ctx: restate.ObjectSharedContext): void {
  if (ctx.key !== singletonKey)
    throw terminal("invalid_argument", `SentinelRolloutService has one key, "${singletonKey}"; got "${ctx.key}"`);
}

const legal: Record<RolloutStateName, string> = {
  idle: "rollout",
  completed: "rollout",
  rolled_back: "rollout",
  cancelled: "rollout or rollbackAll",
  in_progress: "pause or cancel",
  paused: "resume, cancel or rollbackAll",
  rolling_back: "nothing until the rollback finishes (wait for rolled_back)",
};

/** Refuses `operation` unless the rollout is in one of `allowed`, naming the state and what is legal. */
export function requireState(s: RolloutState | null, operation: string, allowed: RolloutStateName[]): asserts s is RolloutState {
  const state: RolloutStateName = s?.state ?? "idle";
  if (!allowed.includes(state)) {
    const which = s ? `rollout ${s.id} is ${state}` : "no rollout has been started (state idle)";
    throw terminal("failed_precondition", `cannot ${operation}: ${which}; legal now: ${legal[state]}`);
  }
}

/**
 * Applies a transition: stores the state, mirrors it (and the changed targets) to MySQL, starts
 * the deploys and issues the notifications — sends are journaled, so a replay never repeats them.
 */
export async function commitTransition(ctx: restate.ObjectContext, db: Db, s: RolloutState, fx: Effects, mirrorAll = false): Promise<void> {
  ctx.set(stateKey, s);
  const positions = mirrorAll ? "all" : [...fx.changed];
  await ctx.run("mirror state", () => mirrorRollout(db, s, positions));
  for (const d of fx.dispatches) {
    ctx
      .objectSendClient<SentinelServiceApi>({ name: sentinelServiceName }, d.sentinelId)
      .rolloutStep({ rolloutId: s.id, step: d.step, mode: d.mode, image: d.image });
  }
  if (fx.events.length) {
    const url = await ctx.get<string>(webhookKey);
    if (url)
      // One invocation per notification, keyed by its event id: even a second send of the same event is one delivery.
      for (const event of fx.events)
        ctx
          .objectSendClient<NotifierApi>({ name: sentinelRolloutNotifierName }, s.id)
          .notify({ url, event }, restate.rpc.sendOpts({ idempotencyKey: event.id }));
  }
}
