import type * as restate from "@restatedev/restate-sdk";
import { terminal } from "../../errors.js";
import type { HaltOutcome, OnHaltRequest } from "./api.js";
import { classifyHalt } from "./classify.js";
import { outcomeOf, pageOnce, type SupervisorDeps } from "./outcome.js";
import { decide, recordHalt } from "./record.js";
import { rollbackHalted } from "./rollback-halted.js";
import { upgradeHalted } from "./upgrade.js";

/**
 * `SupervisorService.onHalt` (key = deployment id): classifies the halt (exit code 70/71/72 or the
 * intent's reason), records it once per deployment and reason, pages on-call once, and takes the
 * reason's action. A halt already recorded is not acted on again (a repeated report, a second
 * instance, a retried send): its current outcome is returned. Not a halt: `handled: false`.
 */
export async function onHalt(ctx: restate.ObjectContext, deps: SupervisorDeps, req: OnHaltRequest): Promise<HaltOutcome> {
  const classified = classifyHalt(req ?? { instance: "" });
  if (!classified) return { handled: false };
  if (!req.instance) throw terminal("invalid_argument", "instance is required");
  const now = await ctx.date.now();
  const recorded = await ctx.run("record halt", () => recordHalt(deps.db, ctx.key, req.instance, classified, now));
  if (!recorded) throw terminal("not_found", `deployment ${ctx.key} not found`);
  if (!recorded.inserted) return outcomeOf(recorded.halt);
  ctx.console.warn(
    { deploymentId: ctx.key, instance: req.instance, reason: classified.reason, exitCode: classified.exitCode, plan: classified.planName },
    "deployment halted; supervising",
  );

  let halt = await ctx.run("show halt", () =>
    decide(deps.db, ctx.key, classified.reason, { state: "acting", message: `halted; ${classified.action} next`, step: "running" }, now),
  );
  if (halt.action === "wait_for_human") {
    halt = await ctx.run("wait for a human", () =>
      decide(
        deps.db,
        ctx.key,
        classified.reason,
        {
          state: "waiting_for_human",
          message: "state is ahead of the binary: not restarted, no newer image picked; ctrl supervise ack, promote or rollback",
          step: "failed",
        },
        now,
      ),
    );
  }
  // 70 pages once it knows whether a plan maps an image (upgrade.ts); 71 and 72 page at once.
  if (halt.action === "upgrade") return upgradeHalted(ctx, deps, halt);
  await pageOnce(ctx, deps, halt);
  if (halt.action === "rollback") return rollbackHalted(ctx, deps, halt);
  return outcomeOf(halt);
}
