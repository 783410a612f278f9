import { buildIdFor, buildSteps } from "@ctrl/build";
import { failBuild, findDeploymentById, upsertDeploymentStep } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import type { WorkerDeps } from "../../deps.js";
import { terminal } from "../../errors.js";
import type { BuildFailure, BuildRequest, BuildResult } from "./api.js";
import { attemptBuild, type BuildAttemptOutcome } from "./attempt.js";
import { buildFailureError } from "./failure.js";

/** Attempts of the build step on transient errors (S3 or the database away) before it gives up. */
const maxBuildAttempts = 5;

/**
 * `BuildService.build`: validates the request, loads the deployment, then runs the whole build as
 * one `ctx.run` step (`@ctrl/build`'s runBuild, which writes the `build:*` steps, the log, the
 * `builds` row and `deployments.image`). A failure retrying cannot fix comes back as a value from
 * the step (so it is journaled) and leaves as a TerminalError with the failing step and reason.
 */
export async function build(ctx: restate.Context, deps: WorkerDeps, request: BuildRequest): Promise<BuildResult> {
  const config = deps.build;
  for (const field of ["deploymentId", "projectId", "contextKey"] as const) {
    if (typeof request?.[field] !== "string" || request[field].trim() === "") throw terminal("invalid_argument", `${field} is required`);
  }
  const buildId = buildIdFor(request.deploymentId);
  const fail = async (failure: BuildFailure): Promise<never> => {
    await ctx.run("record build failure", async () => {
      const now = Date.now();
      await upsertDeploymentStep(deps.db, {
        deploymentId: request.deploymentId,
        step: failure.step,
        status: "failed",
        message: failure.reason,
        errorMessage: failure.message,
        now,
      });
      await failBuild(deps.db, buildId, { step: failure.step, errorMessage: failure.message, now });
    });
    throw buildFailureError(failure);
  };

  if (!config || !deps.storage) {
    return fail({
      step: buildSteps.fetch,
      reason: "build_not_configured",
      message: `no build backend is configured on ctrl-worker (BUILD_BACKEND=${config ? config.backend : "none"}${deps.storage ? "" : ", no S3 storage"}): set BUILD_BACKEND=local (no Docker needed) or docker and restart the worker`,
    });
  }
  const storage = deps.storage;

  const deployment = await ctx.run("load deployment", async () => {
    const d = await findDeploymentById(deps.db, request.deploymentId);
    return d ? { workspaceId: d.workspace_id, projectId: d.project_id } : null;
  });
  if (!deployment) throw terminal("not_found", `deployment ${request.deploymentId} does not exist`);
  if (deployment.projectId !== request.projectId) {
    throw terminal(
      "invalid_argument",
      `deployment ${request.deploymentId} belongs to project ${deployment.projectId}, not ${request.projectId}`,
    );
  }

  let outcome: BuildAttemptOutcome;
  try {
    outcome = await ctx.run("build", () => attemptBuild(deps, config, storage, request, buildId, deployment.workspaceId), {
      maxRetryAttempts: maxBuildAttempts,
      initialRetryInterval: { seconds: 1 },
      maxRetryInterval: { seconds: 30 },
    });
  } catch (err) {
    // ctx.run gave up after maxBuildAttempts transient failures.
    if (err instanceof restate.TerminalError) {
      return fail({
        step: buildSteps.fetch,
        reason: "build_failed",
        message: `the build failed ${maxBuildAttempts} times on transient errors; last: ${err.message}`,
      });
    }
    throw err;
  }
  if (!outcome.ok) throw buildFailureError(outcome.failure);
  return outcome.result;
}
