import { updateHalt, type Db, type DeploymentHalt } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import type { WorkerSettings } from "../../settings.js";
import type { HaltOutcome } from "./api.js";
import { sendPage } from "./paging.js";

/** What the handlers of the supervisor need. */
export interface SupervisorDeps {
  db: Db;
  settings: WorkerSettings;
}

/** The outcome a halt row stands for. */
export function outcomeOf(halt: DeploymentHalt): HaltOutcome {
  return {
    handled: true,
    reason: halt.reason,
    action: halt.action,
    state: halt.state,
    ...(halt.replaced_by_deployment_id ? { replacedByDeploymentId: halt.replaced_by_deployment_id } : {}),
    ...(halt.message ? { message: halt.message } : {}),
  };
}

/** Triggers the halt's page unless its row says it was already paged (exactly one trigger per halt). */
export async function pageOnce(ctx: restate.ObjectContext, deps: SupervisorDeps, halt: DeploymentHalt): Promise<void> {
  if (halt.paged_at !== null) return;
  await sendPage(ctx, deps.settings, "trigger", halt);
  const at = await ctx.date.now();
  await ctx.run("mark paged", () => updateHalt(deps.db, halt.deployment_id, halt.reason, { paged_at: at }, at));
}

/** Resolves the halt's page once, after the supervisor's action succeeded (or a person took it over). */
export async function resolveOnce(ctx: restate.ObjectContext, deps: SupervisorDeps, halt: DeploymentHalt): Promise<void> {
  if (halt.resolved_at !== null) return;
  await sendPage(ctx, deps.settings, "resolve", halt);
  const at = await ctx.date.now();
  await ctx.run("mark resolved", () => updateHalt(deps.db, halt.deployment_id, halt.reason, { resolved_at: at }, at));
}
