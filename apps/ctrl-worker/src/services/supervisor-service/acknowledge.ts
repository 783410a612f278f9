import { latestHaltOf } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { terminal } from "../../errors.js";
import type { AcknowledgeRequest, HaltOutcome } from "./api.js";
import { outcomeOf, resolveOnce, type SupervisorDeps } from "./outcome.js";
import { decide, normaliseHalt } from "./record.js";

/**
 * `SupervisorService.acknowledge`: a person takes the deployment's latest halt over (`ctrl
 * supervise ack`). The supervisor stops waiting for it (a plan set later no longer deploys) and
 * resolves its page. A halt already done (`halted`) or acknowledged is returned unchanged.
 */
export async function acknowledge(ctx: restate.ObjectContext, deps: SupervisorDeps, req: AcknowledgeRequest): Promise<HaltOutcome> {
  const now = await ctx.date.now();
  const found = await ctx.run("load halt", async () => {
    const row = await latestHaltOf(deps.db, ctx.key);
    return row ? normaliseHalt(row) : null;
  });
  if (!found) throw terminal("not_found", `deployment ${ctx.key} has no halt to acknowledge`);
  if (found.state === "halted" || found.state === "acknowledged") return outcomeOf(found);
  const by = req?.by ? ` by ${req.by.slice(0, 255)}` : "";
  const acked = await ctx.run("acknowledge", () =>
    decide(
      deps.db,
      ctx.key,
      found.reason,
      { state: "acknowledged", message: `acknowledged${by}; a person decides`, step: "completed" },
      now,
    ),
  );
  await resolveOnce(ctx, deps, acked);
  return outcomeOf(acked);
}
