/**
 * Contract of `DeploymentService` (Restate virtual object, key = project id): short exclusive
 * handlers that switch what a project serves. ctrl-api calls `rollback` and `promote`:
 *
 *   rs.objectClient<DeploymentServiceApi>({ name: deploymentServiceName }, projectId).rollback(req)
 *
 * Precondition failures are TerminalErrors with HTTP codes 400/404/412 (see errors.ts); ctrl-api maps
 * them to invalid_argument / not_found / failed_precondition.
 */
export const deploymentServiceName = "DeploymentService";

export interface CutoverRequest {
  deploymentId: string;
}

export interface RollbackRequest {
  sourceDeploymentId: string;
  targetDeploymentId: string;
}

export interface PromoteRequest {
  targetDeploymentId: string;
}

/** What a switch did: the routes it repointed and the project's live deployment afterwards. */
export interface SwitchResult {
  projectId: string;
  liveDeploymentId: string | null;
  isRolledBack: boolean;
  repointedHostnames: string[];
}
