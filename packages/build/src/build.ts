import { failBuild, findBuildByDeployment, startBuild } from "@ctrl/db";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { BuildError, type BuildErrorReason } from "./errors.js";
import { createBuildDirs } from "./sandbox.js";
import { buildSteps, type BuildReporter, type BuildStepName } from "./steps.js";
import { packStep, uploadStep } from "./build/artifact-steps.js";
import { commandSteps } from "./build/command-steps.js";
import { dockerStep } from "./build/docker-step.js";
import { extractStep } from "./build/extract-step.js";
import { fetchStep, reuseEarlierBuild } from "./build/fetch-step.js";
import { describePlan, planContext } from "./build/plan-context.js";
import { BuildSession, type BuildConfig, type BuildDeps, type BuildJob, type BuildOutput } from "./build/session.js";

export { artifactKeyFor } from "./build/artifact-steps.js";
export { stepsOf } from "./build/fetch-step.js";
export { planContext } from "./build/plan-context.js";
export type { BuildConfig, BuildDeps, BuildJob, BuildOutput } from "./build/session.js";

/**
 * The build id of a deployment: derived from the deployment id, so every attempt (a retry after a
 * crash, a replay) uses the same id, the same `builds` row and the same artifact key.
 */
export function buildIdFor(deploymentId: string): string {
  return `build_${deploymentId.replace(/^d_/, "")}`;
}

/**
 * Builds one deployment's context: fetch (size-limited, gzip-checked) → reuse an earlier artifact of
 * the same project and context digest if there is one → safe extraction → local builder (install,
 * compile, pack, upload) or the Docker backend → `builds` row and `deployments.image`/`build_id`.
 *
 * Idempotent per deployment: a repeated call after success returns the recorded result; a repeated
 * call after a crash builds again into the same artifact key. Throws {@link BuildError} for
 * failures retrying cannot fix (the failing step is marked failed and the build row too); other
 * errors are transient. The temporary directory is always removed.
 */
export async function runBuild(deps: BuildDeps, config: BuildConfig, job: BuildJob, reporter: BuildReporter): Promise<BuildOutput> {
  checkContextKey(job);
  const previous = await findBuildByDeployment(deps.db, job.deploymentId);
  if (previous?.status === "succeeded" && previous.image) {
    return {
      image: previous.image,
      sha256: previous.artifact_sha256 ?? "",
      cached: previous.cached_from_build_id !== null,
      buildId: previous.id,
      backend: previous.backend,
    };
  }
  const deadline = Date.now() + config.timeoutMs;
  await startBuild(deps.db, {
    id: job.buildId,
    deploymentId: job.deploymentId,
    workspaceId: job.workspaceId,
    projectId: job.projectId,
    backend: config.backend,
    contextKey: job.contextKey,
    now: Date.now(),
  });
  if (previous)
    reporter.log(buildSteps.fetch, `— an earlier attempt of this build was interrupted (e.g. a worker restart); building again —`);

  await mkdir(config.workDir, { recursive: true });
  await removeStaleWorkDirs(config.workDir, job.buildId);
  const dirs = await createBuildDirs(join(config.workDir, `${job.buildId}-${randomBytes(4).toString("hex")}`));
  const b = new BuildSession(deps, config, job, reporter, dirs, deadline);
  try {
    const context = await fetchStep(b);
    const reused = await reuseEarlierBuild(b, context.sha256);
    if (reused) return reused;
    await extractStep(b, context.file);
    if (config.backend === "docker") return await dockerStep(b);
    const plan = await planContext(dirs.app);
    reporter.log(buildSteps.extract, `build plan from ${plan.source}: ${describePlan(plan)}`);
    await commandSteps(b, plan);
    const artifactFile = await packStep(b, plan);
    return await uploadStep(b, plan, artifactFile);
  } catch (err) {
    if (err instanceof BuildError) {
      await reporter.flush().catch(() => undefined);
      await reporter.step(err.step as BuildStepName, "failed", summary(err.reason), err.message);
      await failBuild(deps.db, job.buildId, { step: err.step, errorMessage: err.message, now: Date.now() });
    } else {
      reporter.log(b.current, `error: ${(err as Error).message} (transient; the build is retried)`);
    }
    throw err;
  } finally {
    await reporter.flush().catch(() => undefined);
    await rm(dirs.root, { recursive: true, force: true });
  }
}

/** Defence in depth (ctrl-api checks it too): a build only ever reads its own project's uploads. */
function checkContextKey(job: BuildJob): void {
  if (!job.contextKey.startsWith(`${job.projectId}/`) || job.contextKey.split("/").some((s) => s === ".." || s === "")) {
    throw new BuildError(
      buildSteps.fetch,
      "build_context_invalid",
      `build context ${job.contextKey} is not an upload of project ${job.projectId} (expected ${job.projectId}/build_….tar.gz)`,
    );
  }
}

function summary(reason: BuildErrorReason): string {
  switch (reason) {
    case "build_context_invalid":
      return "the build context was rejected";
    case "build_context_missing":
      return "the build context does not exist";
    case "build_failed":
      return "a build command failed";
    case "build_timeout":
      return "the build timed out";
    case "build_upload_failed":
      return "the artifact upload failed";
    case "build_not_configured":
      return "no build backend is configured";
  }
}

/** Deletes directories a crashed earlier attempt of `buildId` left behind. */
async function removeStaleWorkDirs(workDir: string, buildId: string): Promise<void> {
  const names = await readdir(workDir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(`${buildId}-`)).map((n) => rm(join(workDir, n), { recursive: true, force: true })));
}
