import type * as restate from "@restatedev/restate-sdk";
import type { HaltOutcome } from "./api.js";
import { outcomeOf, type SupervisorDeps } from "./outcome.js";
import { loadHalt } from "./record.js";
import { upgradeHalted } from "./upgrade.js";

/**
 * `SupervisorService.resume`: an upgrade plan was set; a halt of this deployment waiting for a
 * plan looks again and deploys it when it now applies. Anything else is returned unchanged, so a
 * repeated resume is harmless.
 */
export async function resume(ctx: restate.ObjectContext, deps: SupervisorDeps): Promise<HaltOutcome> {
  const halt = await ctx.run("load halt", async () => (await loadHalt(deps.db, ctx.key, "upgrade_required")) ?? null);
  if (!halt) return { handled: false };
  if (halt.state !== "waiting_for_plan") return outcomeOf(halt);
  return upgradeHalted(ctx, deps, halt);
}
