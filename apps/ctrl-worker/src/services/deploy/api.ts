/**
 * Contract of `DeployWorkflow` (Restate workflow, key = deployment id). ctrl-api submits it right
 * after inserting the deployment row as `pending`:
 *
 *   rs.workflowClient<DeployWorkflowApi>({ name: deployWorkflowName }, deploymentId)
 *     .workflowSubmit({ deploymentId }, clients.rpc.sendOpts({ idempotencyKey: deploymentId }))
 *
 * The service definition's type is `ReturnType<typeof createDeployWorkflow>` in `service.ts`;
 * this file holds the names and payload shapes that both sides share.
 */
export const deployWorkflowName = "DeployWorkflow";

/** Input of `run`. Everything else is read from the `deployments` row. */
export interface DeployRequest {
  deploymentId: string;
}

/** Output of `run` and of the shared `status` handler. */
export interface DeployResult {
  deploymentId: string;
  status: "pending" | "building" | "deploying" | "ready" | "failed" | "cancelled";
  /** The step that failed (e.g. `readiness`), when status is failed. */
  failedStep?: string;
  /** Structured failure reason, e.g. `readiness_timeout`, `start_failed`, `image_pull_failed`. */
  reason?: string;
  errorMessage?: string;
  hostnames?: string[];
}
