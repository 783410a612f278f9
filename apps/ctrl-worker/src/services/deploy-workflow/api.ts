import type { BuildFailureReason } from "../build-service/api.js";
import type { createDeployWorkflow } from "./service.js";

/**
 * Contract of `DeployWorkflow` (Restate workflow, key = deployment id). ctrl-api submits it right
 * after inserting the deployment row as `pending`:
 *
 *   rs.workflowClient<DeployWorkflowApi>({ name: deployWorkflowName }, deploymentId)
 *     .workflowSubmit({ deploymentId })
 *
 * No idempotency key: restate-server rejects one on workflow handlers (400 "cannot use the
 * idempotency key with workflow handlers"); the workflow key already makes a repeated submit
 * idempotent (it answers "previously accepted" and `run` executes once).
 *
 * `run` returns a {@link DeployResult} for every business outcome (ready, failed with a reason,
 * cancelled) instead of throwing, so `workflowAttach` gives the structured reason. Shared handlers:
 * `status()` (reads the row) and `cancel({reason?})` (the run stops at its next step boundary).
 */
export { deployWorkflowName } from "../../contract.js";

/** Typed client of the workflow: `rs.workflowClient<DeployWorkflowApi>(…)`. */
export type DeployWorkflowApi = ReturnType<typeof createDeployWorkflow>;

/** Input of `run`. Everything else is read from the `deployments` row. */
export interface DeployRequest {
  deploymentId: string;
}

/** Input of the shared `cancel` handler. */
export interface CancelDeployRequest {
  reason?: string;
}

/** Output of `run` and of the shared `status` and `cancel` handlers. */
export interface DeployResult {
  deploymentId: string;
  status: "pending" | "building" | "deploying" | "ready" | "failed" | "cancelled";
  /** The step that failed (e.g. `readiness`, or a build step such as `build:compile`), when status is failed. */
  failedStep?: string;
  /** Structured failure reason, e.g. `readiness_timeout`, `start_failed`, `image_pull_failed`. */
  reason?: string;
  errorMessage?: string;
  hostnames?: string[];
}

/**
 * Step names written to `deployment_steps.step`, in workflow order. `build` only for build-context
 * deploys; `sentinel` is `skipped` when no sentinel image is configured; `openapi` is `skipped`
 * when the scrape fails (optional).
 */
export const deploySteps = ["metadata", "build", "topology", "sentinel", "readiness", "openapi", "domains", "cutover"] as const;
export type DeployStepName = (typeof deploySteps)[number];

/** Structured failure reasons (`deployments.failure_reason`, `DeployResult.reason`). */
export type DeployFailureReason =
  | "invalid_deployment"
  | BuildFailureReason
  | "readiness_timeout"
  | "start_failed"
  | "image_pull_failed"
  | "cutover_rejected"
  | "step_failed";
