import { setDeploymentStatus } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import { DeployCancelled, DeployFailure, cancelPromiseName, type CancelRequest } from "../../steps.js";
import type { DeployResult } from "./api.js";
import { setDeployStatus, type DeployRun } from "./deploy-run.js";
import { stopTopology } from "./topology.js";

/**
 * Turns an error out of the steps into the workflow's result: a cancel leaves the row `cancelled`,
 * a terminal error leaves it `failed` with the step and reason, both with the topology stopped.
 * Anything else (transient) is rethrown for Restate to retry.
 */
export async function finishAfterError(run: DeployRun, err: unknown): Promise<DeployResult> {
  if (err instanceof DeployCancelled || err instanceof restate.CancelledError) {
    return finishCancelled(run);
  }
  if (err instanceof restate.TerminalError) {
    const { ctx, deploymentId, steps } = run;
    const reason = err instanceof DeployFailure ? err.reason : "step_failed";
    const failedStep = (err instanceof DeployFailure ? err.failedStep : undefined) ?? steps.current ?? "metadata";
    await stopTopology(ctx, run.db, deploymentId);
    await setDeployStatus(run, { status: "failed", errorMessage: err.message, failedStep, failureReason: reason });
    ctx.console.warn({ deploymentId, failedStep, reason, error: err.message }, "deployment failed");
    return { deploymentId, status: "failed", failedStep, reason, errorMessage: err.message };
  }
  throw err;
}

/** Stops the topology and marks the row cancelled (with the reason given to `cancel`, if any). */
async function finishCancelled(run: DeployRun): Promise<DeployResult> {
  const { ctx, deploymentId, steps } = run;
  const request = await ctx.promise<CancelRequest>(cancelPromiseName).peek();
  const errorMessage = `cancelled${request?.reason ? `: ${request.reason}` : ""}`;
  await stopTopology(ctx, run.db, deploymentId);
  const now = await ctx.date.now();
  await ctx.run("status cancelled", () =>
    setDeploymentStatus(run.db, deploymentId, { status: "cancelled", errorMessage, failedStep: steps.current ?? null }, now),
  );
  ctx.console.info({ deploymentId, step: steps.current }, "deployment cancelled");
  return { deploymentId, status: "cancelled", errorMessage };
}
