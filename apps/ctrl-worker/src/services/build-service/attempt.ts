import { BuildError, dbReporter, runBuild, type BuildConfig } from "@ctrl/build";
import { maxBuildLogSeq } from "@ctrl/db";
import type { Storage } from "@ctrl/s3";
import type { WorkerDeps } from "../../deps.js";
import type { BuildFailure, BuildRequest, BuildResult } from "./api.js";

/** What one build attempt ended with: a result, or a failure retrying cannot fix (returned, so it is journaled). */
export type BuildAttemptOutcome = { ok: true; result: BuildResult } | { ok: false; failure: BuildFailure };

/**
 * One attempt of the whole build (the body of the `build` step): `@ctrl/build`'s runBuild with a
 * reporter that writes the steps and the log to MySQL. Transient errors are thrown (the step retries).
 */
export async function attemptBuild(
  deps: WorkerDeps,
  config: BuildConfig,
  storage: Storage,
  request: BuildRequest,
  buildId: string,
  workspaceId: string,
): Promise<BuildAttemptOutcome> {
  const reporter = dbReporter(deps.db, request.deploymentId, buildId, {
    startSeq: await maxBuildLogSeq(deps.db, request.deploymentId),
    onError: (err) =>
      deps.logger.warn({ deploymentId: request.deploymentId, buildId, err: (err as Error).message }, "build log write failed; retrying"),
  });
  deps.logger.info({ deploymentId: request.deploymentId, projectId: request.projectId, buildId, backend: config.backend }, "build started");
  try {
    const result = await runBuild(
      { db: deps.db, storage },
      config,
      {
        deploymentId: request.deploymentId,
        projectId: request.projectId,
        workspaceId,
        contextKey: request.contextKey,
        dockerfilePath: request.dockerfilePath ?? null,
        buildId,
      },
      reporter,
    );
    deps.logger.info({ deploymentId: request.deploymentId, buildId, image: result.image, cached: result.cached }, "build succeeded");
    return { ok: true as const, result };
  } catch (err) {
    if (err instanceof BuildError) {
      deps.logger.info({ deploymentId: request.deploymentId, buildId, step: err.step, reason: err.reason }, "build failed");
      return { ok: false as const, failure: { step: err.step, reason: err.reason, message: err.message } };
    }
    deps.logger.warn(
      { deploymentId: request.deploymentId, buildId, err: (err as Error).message },
      "build attempt failed on a transient error",
    );
    throw err;
  } finally {
    reporter.close?.();
  }
}
