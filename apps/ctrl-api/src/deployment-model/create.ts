import { Code, ConnectError } from "@connectrpc/connect";
import { failPendingDeployment, findEnvironmentBySlug, findProjectById, insertDeployment, newId, recordFailedStep } from "@ctrl/db";
import type { DeployWorkflowApi } from "@ctrl/ctrl-worker/api";
import { deployWorkflowName } from "@ctrl/ctrl-worker/contract";
import { requireProjectAccess, type Principal } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { connectErrorFromRestate } from "../restate-errors.js";
import { deploymentPermissions } from "./access.js";
import { deploymentDefaults } from "./defaults.js";
import { validateCreateDeployment, type CreateDeploymentInput } from "./validate.js";

/** The step recorded when the deploy workflow could not be started. */
export const startStepName = "start";

/**
 * CreateDeployment, shared by the RPC and `POST /v2/deploy.createDeployment`: validates, authorizes
 * (a project the principal cannot see is `not_found`), inserts the deployment as `pending`, then
 * submits `DeployWorkflow` keyed by the deployment id (so a repeated submit is a no-op). When the submission fails the
 * deployment is marked `failed` with the reason and a failed `start` step, and the caller gets
 * `unavailable` — it is never left `pending`.
 */
export async function createDeployment(
  deps: ApiDeps,
  principal: Principal | undefined,
  input: CreateDeploymentInput,
): Promise<{ deploymentId: string; status: "pending" }> {
  const now = (deps.now ?? Date.now)();
  const req = validateCreateDeployment(input, now);
  const project = await findProjectById(deps.db, req.projectId);
  requireProjectAccess(principal, project, deploymentPermissions.create, `project ${req.projectId} not found`);
  const environment = await findEnvironmentBySlug(deps.db, project!.id, req.environmentSlug);
  if (!environment) throw new ConnectError(`environment "${req.environmentSlug}" not found in project ${project!.id}`, Code.NotFound);

  const deploymentId = newId("d");
  const branch = req.branch || project!.default_branch || deploymentDefaults.branch;
  await insertDeployment(deps.db, {
    id: deploymentId,
    workspace_id: project!.workspace_id,
    project_id: project!.id,
    environment_id: environment.id,
    source_type: req.source.kind,
    build_context_path: req.source.kind === "build_context" ? req.source.path : null,
    dockerfile_path: req.source.kind === "build_context" ? req.source.dockerfile : null,
    image: req.source.kind === "image" ? req.source.image : null,
    build_id: null,
    git_commit_sha: req.git.commitSha,
    git_branch: branch,
    git_commit_message: req.git.commitMessage,
    git_commit_author_handle: req.git.authorHandle,
    git_commit_author_avatar_url: req.git.authorAvatarUrl,
    git_commit_timestamp: req.git.timestamp,
    command: req.command ? JSON.stringify(req.command) : null,
    status: "pending",
    error_message: null,
    failed_step: null,
    openapi_spec: null,
    // The environment's settings in force now (null = the default): later changes apply to the next deployment.
    cpu_millicores: environment.cpu_millicores ?? deploymentDefaults.cpuMillicores,
    memory_mib: environment.memory_mib ?? deploymentDefaults.memoryMib,
    replicas: environment.replicas ?? deploymentDefaults.replicas,
    port: deploymentDefaults.port,
    health_check_path: environment.health_check_path ?? deploymentDefaults.healthCheckPath,
    // The policy in force now: a later SetRolloutPolicy never changes this deployment's rollout.
    rollout_policy: environment.rollout_policy,
    created_at: now,
    updated_at: now,
  });
  const log = deps.logger.child({ deploymentId, projectId: project!.id, environmentId: environment.id });

  try {
    await deps.restate
      .workflowClient<DeployWorkflowApi>({ name: deployWorkflowName }, deploymentId)
      // The workflow key (= deployment id) is the idempotency key: restate runs `run` once per key
      // and answers a repeated submit with PreviouslyAccepted. (It rejects an explicit
      // idempotency-key header on workflow handlers with HTTP 400.)
      .workflowSubmit({ deploymentId });
  } catch (err) {
    const error = connectErrorFromRestate(err, `starting the deploy workflow of ${deploymentId}`);
    await markStartFailed(deps, deploymentId, error.rawMessage);
    log.error({ err }, "deploy workflow could not be started; deployment marked failed");
    throw new ConnectError(`deployment ${deploymentId} could not be started and is marked failed: ${error.rawMessage}`, Code.Unavailable);
  }
  log.info({ source: req.source.kind, branch }, "deployment created");
  return { deploymentId, status: "pending" };
}

/**
 * Marks a deployment whose workflow never started as failed, with a failed `start` step. Only a
 * still-`pending` row is touched, so a workflow that did start after all keeps its own status.
 */
async function markStartFailed(deps: ApiDeps, deploymentId: string, reason: string): Promise<void> {
  const now = (deps.now ?? Date.now)();
  const message = `The deploy workflow could not be started: ${reason}`;
  await deps.db.transaction().execute(async (trx) => {
    const failed = await failPendingDeployment(trx, deploymentId, { errorMessage: message, failedStep: startStepName, now });
    if (!failed) return;
    await recordFailedStep(trx, { deploymentId, step: startStepName, message: "Starting the deploy workflow", errorMessage: message, now });
  });
}
