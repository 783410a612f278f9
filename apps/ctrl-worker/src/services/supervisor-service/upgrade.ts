import { findDeploymentById, findUpgradePlan, type DeploymentHalt } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { terminal } from "../../errors.js";
import { deployWorkflowName, type DeployWorkflowApi } from "../deploy-workflow/api.js";
import type { HaltOutcome } from "./api.js";
import { outcomeOf, pageOnce, resolveOnce, type SupervisorDeps } from "./outcome.js";
import { decide, insertReplacement } from "./record.js";
import { stopHaltedDeployment } from "./stop-halted.js";

/** The condition of a 70 whose plan has no image mapping (yet). */
export const imageMappingMissing = "image_mapping_missing";

/**
 * The 70 branch (upgrade required). The page goes out once the supervisor knows what it does: it
 * names the missing mapping, or the image being deployed. Looks up the halt's plan in `upgrade_plans`; a plan whose
 * `min_height` is above the halt's height does not apply. Missing: the halt waits with the visible
 * condition `image_mapping_missing` (SetUpgradePlan wakes it through `resume`). Found: a
 * replacement deployment of the mapped image with the halted one's configuration is created and
 * deployed (the deploy workflow cuts it over as any deploy of the environment would); once it is
 * ready the halted deployment's topology is stopped (its instances torn down, a stay-alive one
 * before its grace window), it is `halted`, replaced by the new one, and the page is resolved.
 */
// Long because the upgrade branch is one journaled sequence (plan, deployment, deploy, record, page).
export async function upgradeHalted(ctx: restate.ObjectContext, deps: SupervisorDeps, halt: DeploymentHalt): Promise<HaltOutcome> {
  const { db } = deps;
  const planName = halt.plan_name ?? "default";
  const now = await ctx.date.now();
  let replacementId = halt.replaced_by_deployment_id;
  if (!replacementId) {
    const plan = await ctx.run("find plan", async () => {
      const found = await findUpgradePlan(db, halt.project_id, halt.environment_id, planName);
      if (!found) return null;
      if (found.minHeight !== null && halt.height !== null && halt.height < found.minHeight) return null;
      return found;
    });
    if (!plan) {
      const waiting = await ctx.run("image mapping missing", () =>
        decide(
          db,
          ctx.key,
          halt.reason,
          {
            state: "waiting_for_plan",
            condition: imageMappingMissing,
            message: `no upgrade plan ${planName} maps an image; ctrl plans set ${planName} --image REF`,
            step: "failed",
          },
          now,
        ),
      );
      ctx.console.warn({ deploymentId: ctx.key, plan: planName }, "upgrade plan missing; waiting for a mapping");
      await pageOnce(ctx, deps, waiting);
      return outcomeOf(waiting);
    }
    const created = await ctx.run("create replacement", async () => {
      const halted = await findDeploymentById(db, ctx.key);
      if (!halted) return null;
      const id = await insertReplacement(db, halted, plan.image, now);
      const row = await decide(
        db,
        ctx.key,
        halt.reason,
        {
          state: "acting",
          condition: null,
          replacedBy: id,
          message: `deploying ${plan.image} (plan ${planName} v${plan.version}) as ${id}`,
          step: "running",
        },
        now,
      );
      return { id, row };
    });
    if (!created) throw terminal("not_found", `deployment ${ctx.key} not found`);
    replacementId = created.id;
    await pageOnce(ctx, deps, created.row);
  }
  const id = replacementId;
  ctx.console.info({ deploymentId: ctx.key, replacementId: id, plan: planName }, "deploying the upgrade");
  const result = await ctx.workflowClient<DeployWorkflowApi>({ name: deployWorkflowName }, id).run({ deploymentId: id });
  const done = await ctx.date.now();
  if (result.status !== "ready") {
    const failed = await ctx.run("upgrade failed", () =>
      decide(
        db,
        ctx.key,
        halt.reason,
        {
          state: "waiting_for_human",
          condition: "upgrade_failed",
          message:
            `replacement ${id} ended ${result.status}${result.reason ? ` (${result.reason})` : ""}: ${result.errorMessage ?? ""}`.trim(),
          step: "failed",
        },
        done,
      ),
    );
    return outcomeOf(failed);
  }
  // Torn down before it is marked halted: a reader that sees `halted` sees the stopped topology too.
  await stopHaltedDeployment(ctx, db, ctx.key);
  const halted = await ctx.run("mark halted", () =>
    decide(db, ctx.key, halt.reason, { state: "halted", condition: null, message: `replaced by ${id}`, step: "completed" }, done),
  );
  await resolveOnce(ctx, deps, halted);
  return outcomeOf(halted);
}
