import * as restate from "@restatedev/restate-sdk";
import { deployWorkflowName } from "../../contract.js";
import type { WorkerDeps } from "../../deps.js";
import { resolveSettings } from "../../settings.js";
import type { CancelDeployRequest, DeployRequest, DeployResult } from "./api.js";
import { cancelDeploy } from "./cancel.js";
import { runDeploy } from "./run.js";
import { deployStatus } from "./status.js";

/**
 * DeployWorkflow — workflow, key = deployment id. Deploys of different deployments run
 * concurrently; everything a deploy changes in shared state goes through the per-region
 * VersioningService and the per-project DeploymentService.
 */
export function createDeployWorkflow(deps: WorkerDeps) {
  const settings = resolveSettings(deps.settings);
  return restate.workflow({
    name: deployWorkflowName,
    handlers: {
      /** The deploy itself (runs once per deployment id). */
      run: async (ctx: restate.WorkflowContext, req: DeployRequest): Promise<DeployResult> => runDeploy(ctx, deps, settings, req),
      /** The deployment's current status, read from MySQL. */
      status: restate.handlers.workflow.shared(
        async (ctx: restate.WorkflowSharedContext): Promise<DeployResult> => deployStatus(ctx, deps.db),
      ),
      /** Requests cancellation; the run stops at its next step boundary. */
      cancel: restate.handlers.workflow.shared(
        async (ctx: restate.WorkflowSharedContext, req: CancelDeployRequest): Promise<DeployResult> => cancelDeploy(ctx, deps.db, req),
      ),
    },
    // ctrl-api starts and watches deploys through the ingress (every other service is private).
    options: { ingressPrivate: false },
  });
}
