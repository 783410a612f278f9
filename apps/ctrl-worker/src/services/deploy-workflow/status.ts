import { findDeploymentById, listRoutesOfDeployment, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { terminal } from "../../errors.js";
import type { DeployResult } from "./api.js";

/** The deployment row as a {@link DeployResult}, or undefined when it does not exist. */
export async function readDeployResult(db: Db, deploymentId: string): Promise<DeployResult | undefined> {
  const d = await findDeploymentById(db, deploymentId);
  if (!d) return undefined;
  const routes = await listRoutesOfDeployment(db, deploymentId);
  return {
    deploymentId: d.id,
    status: d.status,
    ...(d.failed_step ? { failedStep: d.failed_step } : {}),
    ...(d.failure_reason ? { reason: d.failure_reason } : {}),
    ...(d.error_message ? { errorMessage: d.error_message } : {}),
    hostnames: routes.map((r) => r.fully_qualified_domain_name),
  };
}

/** Shared handler `DeployWorkflow.status`: reads the row (never waits for the run). */
export async function deployStatus(ctx: restate.WorkflowSharedContext, db: Db): Promise<DeployResult> {
  const result = await ctx.run("read status", () => readDeployResult(db, ctx.key));
  if (!result) throw terminal("not_found", `deployment ${ctx.key} not found`);
  return result;
}
