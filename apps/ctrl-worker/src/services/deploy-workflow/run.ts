import { terminalDeploymentStatuses } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import type { WorkerDeps } from "../../deps.js";
import { terminal } from "../../errors.js";
import type { WorkerSettings } from "../../settings.js";
import { StepRunner } from "../../steps.js";
import type { DeployRequest, DeployResult } from "./api.js";
import { buildOrImageStep } from "./build-step.js";
import { cutoverStep } from "./cutover.js";
import { setDeployStatus, type DeployRun } from "./deploy-run.js";
import { domainsStep } from "./domains-step.js";
import { finishAfterError } from "./finish.js";
import { metadataStep } from "./metadata.js";
import { openApiStep } from "./openapi.js";
import { runRollout, settleRollout } from "./rollout/run.js";
import { deployRegions } from "./topology.js";

/**
 * `DeployWorkflow.run` (key = deployment id): metadata → build (context only) → rollout (topology,
 * sentinel and readiness per batch of regions, per the policy snapshot; see rollout/run.ts) →
 * OpenAPI (optional) → domains → cutover → `ready`.
 *
 * Business outcomes are returned, not thrown: a failure at any step leaves the row `failed` with
 * the step, a structured reason and the message, and its topology `stopped`; a cancel leaves it
 * `cancelled` with its topology stopped. Transient errors (database down, …) are thrown and
 * retried by Restate from the last journaled step. The order of the steps below is the journal's:
 * changing it breaks the replay of deploys in flight.
 */
export async function runDeploy(
  ctx: restate.WorkflowContext,
  deps: WorkerDeps,
  settings: WorkerSettings,
  req: DeployRequest,
): Promise<DeployResult> {
  const deploymentId = ctx.key;
  if (req?.deploymentId && req.deploymentId !== deploymentId) {
    throw terminal("invalid_argument", `request deploymentId ${req.deploymentId} differs from the workflow key ${deploymentId}`);
  }
  const run: DeployRun = { ctx, db: deps.db, settings, deploymentId, steps: new StepRunner(ctx, deps.db, deploymentId) };

  try {
    const meta = await metadataStep(run);
    // A row already finished (e.g. cancelled before the run started) is reported, not redone.
    if (terminalDeploymentStatuses.includes(meta.status)) return { deploymentId, status: meta.status };
    await buildOrImageStep(run, meta);
    const regions = deployRegions(meta, settings.regions);
    // Topology, sentinels and readiness, batch by batch under the deployment's rollout policy.
    const rollout = await runRollout(ctx, deps, settings, run.steps, meta, regions);
    if (rollout.ended) return rollout.result;
    await openApiStep(run, rollout.runningAddress);
    const domains = await domainsStep(run, meta);
    const switched = await cutoverStep(run, meta.projectId, domains);
    await rollout.finish();
    await setDeployStatus(run, { status: "ready", errorMessage: null, failedStep: null, failureReason: null });
    ctx.console.info({ deploymentId, projectId: meta.projectId, hostnames: switched.repointedHostnames }, "deployment ready");
    return { deploymentId, status: "ready", hostnames: switched.repointedHostnames };
  } catch (err) {
    await settleRollout(ctx, deps.db, deploymentId, err);
    return finishAfterError(run, err);
  }
}
