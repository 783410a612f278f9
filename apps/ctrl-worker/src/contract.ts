/**
 * The run-time half of the worker's contract: Restate service names and the error-code table.
 * ctrl-api imports this file (`@ctrl/ctrl-worker/contract`) at run time, so it has NO imports and
 * holds only constants and pure functions: ctrl-api deploys on its own and never loads worker code.
 * The types of the services come from `@ctrl/ctrl-worker/api` with `import type`.
 *
 * A new service adds its name here, uses it in its `restate.service/object/workflow({ name })` and
 * re-exports it from its `api.ts`; every caller writes `{ name: <that constant> }`.
 */

export const deployWorkflowName = "DeployWorkflow";
export const deploymentServiceName = "DeploymentService";
export const routingServiceName = "RoutingService";
export const versioningServiceName = "VersioningService";
export const buildServiceName = "BuildService";
export const certificateServiceName = "CertificateService";
export const certificateRequestServiceName = "CertificateRequestService";
export const domainVerificationServiceName = "DomainVerificationService";
export const sentinelServiceName = "SentinelService";
export const sentinelRolloutServiceName = "SentinelRolloutService";
export const sentinelRolloutNotifierName = "SentinelRolloutNotifier";
export const supervisorServiceName = "SupervisorService";
/**
 * The halt contract's exit codes and their reasons (docs/halt-contract.md): ctrl-api decides from
 * them which reported instances go to `SupervisorService.onHalt`; the supervisor classifies.
 */
export const haltReasonByExitCode: Readonly<Record<number, "upgrade_required" | "binary_too_new" | "downgrade_detected">> = {
  70: "upgrade_required",
  71: "binary_too_new",
  72: "downgrade_detected",
};

/** The only key of `SentinelRolloutService`: there is one fleet rollout at a time. */
export const sentinelRolloutKey = "singleton";

/**
 * The machine-readable code of a worker's business-rule failure and the HTTP status it travels as
 * (the TerminalError's `errorCode`, which restate-server returns as the ingress response status).
 * The names are Connect's, so ctrl-api maps each to the Connect code of the same name.
 */
export const workerErrorStatus = {
  invalid_argument: 400,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 412,
} as const;

export type WorkerErrorCode = keyof typeof workerErrorStatus;

const codeByStatus = new Map<number, WorkerErrorCode>(
  Object.entries(workerErrorStatus).map(([code, status]) => [status, code as WorkerErrorCode]),
);
const codePrefix = new RegExp(`^(${Object.keys(workerErrorStatus).join("|")}):\\s*`);

/**
 * The TerminalError message of a failure: `<code>: <message>`. The prefix is for people reading
 * the journal or an ingress response; programs read the code from the status ({@link parseWorkerError}).
 */
export function formatWorkerError(code: WorkerErrorCode, message: string): string {
  return `${code}: ${message}`;
}

/** The code a message produced by {@link formatWorkerError} starts with, if any. */
export function workerErrorCodeOf(message: string): WorkerErrorCode | undefined {
  return codePrefix.exec(message)?.[1] as WorkerErrorCode | undefined;
}

/**
 * Reads a worker failure from the status of a TerminalError (or of the ingress response of a failed
 * invocation) and its message: the code of the status and the message without its `<code>: `
 * prefix. Undefined when the status is not one of {@link workerErrorStatus} (a worker bug).
 */
export function parseWorkerError(status: number, message: string): { code: WorkerErrorCode; message: string } | undefined {
  const code = codeByStatus.get(status);
  if (code === undefined) return undefined;
  return { code, message: message.replace(codePrefix, "") };
}
