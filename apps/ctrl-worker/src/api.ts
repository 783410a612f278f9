/**
 * Type-only contracts of the worker's Restate services, for callers such as ctrl-api. Import with
 * `import type` only: ctrl-api never loads worker code, it calls these services by name through
 * the Restate ingress (`@restatedev/restate-sdk-clients`).
 *
 * Service names and the error-code table are values: they live in the dependency-free
 * `@ctrl/ctrl-worker/contract` (contract.ts), which ctrl-api imports at run time, and are
 * re-exported here for the worker's own code.
 *
 * Errors: business-rule failures are TerminalErrors whose HTTP `code` is one of 400
 * (invalid_argument), 403 (permission_denied), 404 (not_found), 409 (already_exists),
 * 412 (failed_precondition), with the message prefixed by that name for people; programs read the
 * code with `parseWorkerError` (contract.ts).
 */
export { versioningServiceName } from "./services/versioning-service/api.js";
export type { VersioningServiceApi, TopologyChange, SentinelChange, CommitResult } from "./services/versioning-service/api.js";
export type { DomainErrorCode } from "./errors.js";
export type { WorkerErrorCode } from "./contract.js";
export { deployWorkflowName } from "./services/deploy-workflow/api.js";
export type {
  DeployRequest,
  DeployResult,
  DeployWorkflowApi,
  CancelDeployRequest,
  DeployFailureReason,
  DeployStepName,
} from "./services/deploy-workflow/api.js";
export { deploySteps } from "./services/deploy-workflow/api.js";
export { deploymentServiceName } from "./services/deployment-service/api.js";
export type {
  CutoverRequest,
  RollbackRequest,
  PromoteRequest,
  SwitchResult,
  StopProjectResult,
  DeploymentServiceApi,
} from "./services/deployment-service/api.js";
export { routingServiceName } from "./services/routing-service/api.js";
export type { RoutingServiceApi } from "./services/routing-service/api.js";
export type { DomainSpec, DomainSticky } from "./domains.js";
export { buildServiceName, formatBuildFailure, parseBuildFailure } from "./services/build-service/api.js";
export type { BuildServiceApi, BuildRequest, BuildResult, BuildFailure, BuildFailureReason } from "./services/build-service/api.js";
export { certificateServiceName, renewalKey } from "./services/certificate-service/api.js";
export type {
  CertificateServiceApi,
  ProcessChallengeRequest,
  ProcessChallengeResult,
  RenewExpiringRequest,
  RenewExpiringResult,
} from "./services/certificate-service/api.js";
export { domainVerificationServiceName } from "./services/domain-verification-service/api.js";
export type {
  DomainVerificationServiceApi,
  ArmVerificationRequest,
  CheckVerificationRequest,
  VerificationCheckResult,
} from "./services/domain-verification-service/api.js";
export { certificateRequestServiceName } from "./services/certificate-request-service/api.js";
export type {
  CertificateRequestServiceApi,
  IssueCertificateRequest,
  StartRenewalRequest,
  VerifyDomainRequest,
  CertificateRequestResult,
} from "./services/certificate-request-service/api.js";
export { sentinelServiceName } from "./services/sentinel-service/api.js";
export type {
  SentinelServiceApi,
  SentinelDeployRequest,
  SentinelDeployResult,
  SentinelDeployFailureReason,
  SentinelReportOutcome,
} from "./services/sentinel-service/api.js";
export { sentinelRolloutServiceName, singletonKey, defaultWavePercentages } from "./services/sentinel-rollout-service/api.js";
export type {
  SentinelRolloutServiceApi,
  RolloutRequest,
  ResumeRequest,
  RolloutState,
  RolloutTarget,
  RolloutWave,
  RolloutEvent,
  RolloutEventKind,
  RollbackAllResult,
  RolloutStateName,
} from "./services/sentinel-rollout-service/api.js";
export { supervisorServiceName } from "./services/supervisor-service/api.js";
export type {
  SupervisorServiceApi,
  OnHaltRequest,
  HaltIntentInput,
  AcknowledgeRequest,
  HaltOutcome,
} from "./services/supervisor-service/api.js";
