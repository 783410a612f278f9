import type { DomainSpec } from "../../domains.js";
import type { createDeploymentService } from "./service.js";

/**
 * Contract of `DeploymentService` (Restate virtual object, key = project id): short exclusive
 * handlers that switch what a project serves. ctrl-api calls `rollback` and `promote`:
 *
 *   rs.objectClient<DeploymentServiceApi>({ name: deploymentServiceName }, projectId).rollback(req)
 *
 * The key is the project of the deployments involved: for `rollback` the source deployment's
 * project, for `promote` the target's. A request whose deployments belong to another project than
 * the key fails with invalid_argument.
 *
 * Precondition failures are TerminalErrors with HTTP codes 400/404/412 (see errors.ts); ctrl-api maps
 * them to invalid_argument / not_found / failed_precondition.
 */
export { deploymentServiceName } from "../../contract.js";

/** Typed client of the service: `rs.objectClient<DeploymentServiceApi>(…)`. */
export type DeploymentServiceApi = ReturnType<typeof createDeploymentService>;

export interface CutoverRequest {
  deploymentId: string;
  /**
   * Hostnames computed by the deploy workflow (`domains.ts`). When absent, `cutover` computes them
   * from the deployment's rows and the worker's apex domain.
   */
  domains?: DomainSpec[];
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
  /** cutover only: environment/live hostnames left where they were because the project is rolled back. */
  heldHostnames?: string[];
}

/** Output of `stopProject` (a forced project delete). */
export interface StopProjectResult {
  stoppedDeploymentIds: string[];
  archivedSentinelIds: string[];
}
