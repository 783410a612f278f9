import {
  ArtifactError,
  ExtractError,
  formatArtifactRef,
  packDirectory,
  parseArtifactRef,
  parseManifest,
  safeExtract,
  uploadArtifact,
} from "@ctrl/artifact";
import {
  completeBuild,
  failBuild,
  findBuildByDeployment,
  findReusableBuild,
  setBuildContextDigest,
  setDeploymentBuild,
  startBuild,
  type Db,
} from "@ctrl/db";
import type { Storage } from "@ctrl/s3";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { dockerBuildCommand, dockerImageTag, parseDockerMetadata, type DockerBackendConfig } from "./docker.js";
import { BuildError, type BuildErrorReason } from "./errors.js";
import { fetchContext } from "./fetch-context.js";
import { findEscapingSymlink } from "./links.js";
import type { ContextLimits } from "./limits.js";
import { displayCommand, planBuild, PlanError, type BuildPlan, type Command } from "./plan.js";
import { buildSandboxTools, openBuildSandbox, type BuildSandbox, type BuildSandboxLimits } from "./isolation.js";
import { runCommand } from "./runner.js";
import { createBuildDirs, sandboxEnv, type BuildDirs } from "./sandbox.js";
import { buildSteps, type BuildReporter, type BuildStepName } from "./steps.js";

/** How builds run on this worker (from its config). */
export interface BuildConfig {
  backend: "local" | "docker";
  limits: ContextLimits;
  /** Wall-clock limit of the whole build (every command shares it). */
  timeoutMs: number;
  /** Parent of the per-build temporary directories. */
  workDir: string;
  /** The registry `npm` installs from. */
  npmRegistry: string;
  /** CA bundle for TLS inside the build (NODE_EXTRA_CA_CERTS), when the host needs one. */
  caFile?: string;
  docker?: DockerBackendConfig;
  /** Log lines quoted in the error message of a failed command. Default 20. */
  logTailLines?: number;
  /**
   * How the local builder isolates `npm ci` / `npm run build`: `bwrap` (default; bubblewrap, own
   * namespaces and uid, network only to the registry through an egress proxy — the build fails
   * with the install command when bwrap is missing) or `none` (BUILD_SANDBOX=none: commands run as
   * the worker's user; trusted single-user machines only, warned in every build's log).
   */
  sandbox?: "bwrap" | "none";
  sandboxLimits?: BuildSandboxLimits;
}

/** One deployment's build. */
export interface BuildJob {
  deploymentId: string;
  projectId: string;
  workspaceId: string;
  contextKey: string;
  dockerfilePath?: string | null;
  /** From {@link buildIdFor}: the same for every attempt of the deployment's build. */
  buildId: string;
}

/** What a successful build produced. */
export interface BuildOutput {
  image: string;
  sha256: string;
  cached: boolean;
  buildId: string;
  backend: "local" | "docker";
  port?: number;
  healthPath?: string;
}

/** What {@link runBuild} needs. */
export interface BuildDeps {
  db: Db;
  storage: Storage;
}

/**
 * The build id of a deployment: derived from the deployment id, so every attempt (a retry after a
 * crash, a replay) uses the same id, the same `builds` row and the same artifact key.
 */
export function buildIdFor(deploymentId: string): string {
  return `build_${deploymentId.replace(/^d_/, "")}`;
}

/** Where the local builder's artifact of `buildId` lives: `<projectId>/artifacts/<buildId>.tar.gz`. */
export function artifactKeyFor(projectId: string, buildId: string): string {
  return `${projectId}/artifacts/${buildId}.tar.gz`;
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
  // Defence in depth (ctrl-api checks it too): a build only ever reads its own project's uploads.
  if (!job.contextKey.startsWith(`${job.projectId}/`) || job.contextKey.split("/").some((s) => s === ".." || s === "")) {
    throw new BuildError(
      buildSteps.fetch,
      "build_context_invalid",
      `build context ${job.contextKey} is not an upload of project ${job.projectId} (expected ${job.projectId}/build_….tar.gz)`,
    );
  }
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
  let current: BuildStepName = buildSteps.fetch;
  const open = async (step: BuildStepName, message: string) => {
    current = step;
    await reporter.step(step, "running", message);
  };
  try {
    await open(buildSteps.fetch, `downloading ${job.contextKey}`);
    const context = await fetchContext(deps.storage, job.contextKey, join(dirs.root, "context.tar.gz"), config.limits.maxCompressedBytes);
    await setBuildContextDigest(deps.db, job.buildId, context.sha256, Date.now());
    await reporter.step(buildSteps.fetch, "completed", `downloaded ${context.bytes} bytes (sha256 ${context.sha256.slice(0, 12)})`);

    const reusable = await findReusableBuild(deps.db, job.projectId, context.sha256, job.buildId, config.backend);
    if (reusable?.image && !(await artifactStillStored(deps.storage, reusable.image))) {
      // The row outlived its object (bucket emptied, lifecycle rule, a fresh S3 next to an old
      // database): reusing it would fail every instance with image_pull_failed, so build again.
      reporter.log(buildSteps.fetch, `the artifact of ${reusable.id} (same context digest) is no longer in storage; building again`);
    } else if (reusable?.image) {
      const note = `reused the artifact of ${reusable.id} (same context digest)`;
      for (const step of stepsOf(config.backend).slice(1)) await reporter.step(step, "skipped", note);
      reporter.log(buildSteps.fetch, note);
      await finish(deps, job, reusable.image, reusable.artifact_sha256, reusable.id);
      return { image: reusable.image, sha256: reusable.artifact_sha256 ?? "", cached: true, buildId: job.buildId, backend: config.backend };
    }

    await open(buildSteps.extract, "unpacking the context");
    const extracted = await extract(context.file, dirs.app, config.limits, job.contextKey);
    await reporter.step(buildSteps.extract, "completed", `unpacked ${extracted.files} entries, ${extracted.bytes} bytes`);

    if (config.backend === "docker") {
      if (!config.docker)
        throw new BuildError(
          buildSteps.docker,
          "build_not_configured",
          "BUILD_BACKEND=docker needs BUILD_DOCKER_REPOSITORY (the registry/repository to push to)",
        );
      await open(buildSteps.docker, "docker buildx build");
      const metadataFile = join(dirs.root, "buildx-metadata.json");
      const argv = dockerBuildCommand(config.docker, {
        contextDir: dirs.app,
        dockerfilePath: job.dockerfilePath,
        projectId: job.projectId,
        buildId: job.buildId,
        metadataFile,
      });
      await run(buildSteps.docker, argv, dirs.app, dockerEnv(process.env, dirs), deadline, config, reporter);
      const digest = parseDockerMetadata(await readFile(metadataFile, "utf8").catch(() => ""));
      const tag = dockerImageTag(config.docker.repository, job.projectId, job.buildId);
      const image = digest ? `${tag}@${digest}` : tag;
      await reporter.step(buildSteps.docker, "completed", `pushed ${image}`);
      const sha = digest?.slice("sha256:".length) ?? null;
      await finish(deps, job, image, sha, null);
      return { image, sha256: sha ?? "", cached: false, buildId: job.buildId, backend: "docker" };
    }

    const plan = await planContext(dirs.app);
    reporter.log(buildSteps.extract, `build plan from ${plan.source}: ${describePlan(plan)}`);
    const envOptions = { npmRegistry: config.npmRegistry, ...(config.caFile ? { caFile: config.caFile } : {}) };
    let box: BuildSandbox | undefined;
    if (config.sandbox === "none") {
      reporter.log(buildSteps.extract, "warning: BUILD_SANDBOX=none — build commands run unsandboxed, as the worker's own user");
    } else if (plan.install !== undefined || plan.build !== undefined) {
      box = await openBuildSandbox(buildSandboxTools(), dirs, job.buildId, {
        ...envOptions,
        ...(config.sandboxLimits ? { limits: config.sandboxLimits } : {}),
        onRefused: (target, why) => reporter.log(current, `sandbox: refused a connection to ${target.slice(0, 300)}: ${why}`),
      });
    }
    const env = box?.env ?? sandboxEnv(dirs, envOptions);
    try {
      for (const [step, command, what] of [
        [buildSteps.install, plan.install, "no dependencies to install"],
        [buildSteps.compile, plan.build, "no build command"],
      ] as const) {
        if (command === undefined) {
          await reporter.step(step, "skipped", what);
          continue;
        }
        await open(step, displayCommand(command));
        await run(step, command, dirs.app, env, deadline, config, reporter, box);
        await reporter.step(step, "completed", `${displayCommand(command)} succeeded`);
      }
    } finally {
      await box?.close();
    }

    await open(buildSteps.pack, "packing the artifact");
    // The artifact's manifest says how to run what was built (the build command is done).
    const manifest = {
      start: plan.start,
      ...(plan.port !== undefined ? { port: plan.port } : {}),
      ...(plan.healthPath !== undefined ? { healthPath: plan.healthPath } : {}),
      ...(plan.halt !== undefined ? { halt: plan.halt } : {}),
    };
    await writeFile(join(dirs.app, "ctrl.json"), JSON.stringify(manifest, null, 2) + "\n");
    const escaping = await findEscapingSymlink(dirs.app);
    if (escaping) {
      throw new BuildError(
        buildSteps.pack,
        "build_failed",
        `the build left a symlink ${escaping.path} -> ${escaping.target} pointing outside the app; the agent refuses such an artifact: make it relative and inside the app, or remove it`,
      );
    }
    const artifactFile = join(dirs.root, "artifact.tar.gz");
    const packed = await packDirectory(dirs.app, artifactFile);
    await reporter.step(buildSteps.pack, "completed", `${packed.bytes} bytes (sha256 ${packed.sha256.slice(0, 12)})`);

    await open(buildSteps.upload, "uploading the artifact");
    const key = artifactKeyFor(job.projectId, job.buildId);
    const ref = await uploadArtifact(deps.storage, key, artifactFile);
    const image = formatArtifactRef(ref);
    await reporter.step(buildSteps.upload, "completed", image);
    await finish(deps, job, image, ref.sha256, null);
    return {
      image,
      sha256: ref.sha256,
      cached: false,
      buildId: job.buildId,
      backend: "local",
      ...(plan.port !== undefined ? { port: plan.port } : {}),
      ...(plan.healthPath !== undefined ? { healthPath: plan.healthPath } : {}),
    };
  } catch (err) {
    if (err instanceof BuildError) {
      await reporter.flush().catch(() => undefined);
      await reporter.step(err.step as BuildStepName, "failed", summary(err.reason), err.message);
      await failBuild(deps.db, job.buildId, { step: err.step, errorMessage: err.message, now: Date.now() });
    } else {
      reporter.log(current, `error: ${(err as Error).message} (transient; the build is retried)`);
    }
    throw err;
  } finally {
    await reporter.flush().catch(() => undefined);
    await rm(dirs.root, { recursive: true, force: true });
  }
}

/** The steps a backend goes through, in order. */
export function stepsOf(backend: "local" | "docker"): BuildStepName[] {
  return backend === "docker"
    ? [buildSteps.fetch, buildSteps.extract, buildSteps.docker]
    : [buildSteps.fetch, buildSteps.extract, buildSteps.install, buildSteps.compile, buildSteps.pack, buildSteps.upload];
}

async function finish(deps: BuildDeps, job: BuildJob, image: string, sha256: string | null, cachedFrom: string | null): Promise<void> {
  const now = Date.now();
  await completeBuild(deps.db, job.buildId, { image, artifactSha256: sha256, cachedFromBuildId: cachedFrom, now });
  await setDeploymentBuild(deps.db, job.deploymentId, { buildId: job.buildId, image, now });
}

async function extract(file: string, dest: string, limits: ContextLimits, key: string): Promise<{ files: number; bytes: number }> {
  try {
    return await safeExtract(file, dest, limits);
  } catch (err) {
    if (err instanceof ExtractError) {
      const hint =
        err.code.endsWith("too_large") || err.code === "too_many_files"
          ? " (raise BUILD_MAX_* on the worker or shrink the context with .ctrlignore)"
          : "";
      throw new BuildError(buildSteps.extract, "build_context_invalid", `build context ${key} rejected: ${err.message}${hint}`);
    }
    throw err;
  }
}

/** Reads `ctrl.json`/`package.json` at the context root and plans the build. */
export async function planContext(appDir: string): Promise<BuildPlan> {
  const rootFiles = new Set(await readdir(appDir));
  const read = (name: string) => (rootFiles.has(name) ? readFile(join(appDir, name), "utf8") : Promise.resolve(undefined));
  const [manifestText, packageJson] = await Promise.all([read("ctrl.json"), read("package.json")]);
  try {
    let manifest: ReturnType<typeof parseManifest> | undefined;
    if (manifestText !== undefined) {
      let value: unknown;
      try {
        value = JSON.parse(manifestText);
      } catch (err) {
        throw new PlanError(`ctrl.json is not valid JSON: ${(err as Error).message}`);
      }
      manifest = parseManifest(value, "ctrl.json");
    }
    return planBuild({ ...(manifest ? { manifest } : {}), ...(packageJson !== undefined ? { packageJson } : {}), rootFiles });
  } catch (err) {
    if (err instanceof PlanError || err instanceof ArtifactError)
      throw new BuildError(buildSteps.extract, "build_context_invalid", err.message);
    throw err;
  }
}

function describePlan(plan: BuildPlan): string {
  const parts = [
    `install: ${plan.install ? displayCommand(plan.install) : "none"}`,
    `build: ${plan.build ? displayCommand(plan.build) : "none"}`,
    `start: ${displayCommand(plan.start)}`,
  ];
  if (plan.port !== undefined) parts.push(`port: ${plan.port}`);
  if (plan.healthPath !== undefined) parts.push(`health: ${plan.healthPath}`);
  return parts.join(", ");
}

async function run(
  step: BuildStepName,
  command: Command,
  cwd: string,
  env: Record<string, string>,
  deadline: number,
  config: BuildConfig,
  reporter: BuildReporter,
  box?: BuildSandbox,
): Promise<void> {
  const shown = displayCommand(command);
  const remaining = deadline - Date.now();
  const limitText = `the build timeout of ${Math.round(config.timeoutMs / 1000)} s (BUILD_TIMEOUT_SECONDS)`;
  if (remaining <= 0) throw new BuildError(step, "build_timeout", `"${shown}" did not start: ${limitText} had passed`);
  reporter.log(step, `$ ${shown}`);
  const result = await runCommand(command, {
    cwd,
    env,
    timeoutMs: remaining,
    onLine: (line) => reporter.log(step, line),
    tailLines: config.logTailLines ?? 20,
    ...(box ? { wrap: box.wrap } : {}),
  });
  const tail = result.tail.length ? `; last ${result.tail.length} log lines:\n${result.tail.join("\n")}` : "; it printed nothing";
  if (result.timedOut) throw new BuildError(step, "build_timeout", `"${shown}" did not finish within ${limitText}${tail}`);
  if (result.exitCode !== 0) {
    const how = result.exitCode === null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    throw new BuildError(step, "build_failed", `"${shown}" ${how}${tail}`);
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

/** Only what the docker CLI needs from the worker's environment (daemon address, registry auth). */
function dockerEnv(env: NodeJS.ProcessEnv, dirs: BuildDirs): Record<string, string> {
  const out: Record<string, string> = { PATH: env.PATH ?? "/usr/local/bin:/usr/bin:/bin", HOME: env.HOME ?? dirs.home, TMPDIR: dirs.tmp };
  for (const name of [
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "DOCKER_CONTEXT",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS_VERIFY",
    "BUILDX_CONFIG",
    "BUILDX_BUILDER",
  ]) {
    const value = env[name];
    if (value) out[name] = value;
  }
  return out;
}

/** Deletes directories a crashed earlier attempt of `buildId` left behind. */
async function removeStaleWorkDirs(workDir: string, buildId: string): Promise<void> {
  const names = await readdir(workDir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(`${buildId}-`)).map((n) => rm(join(workDir, n), { recursive: true, force: true })));
}

/**
 * Whether a recorded artifact can still be pulled. Only `s3://` artifacts are checked; an image in
 * a registry (docker backend) is assumed present.
 */
async function artifactStillStored(storage: BuildDeps["storage"], image: string): Promise<boolean> {
  const ref = parseArtifactRef(image);
  return ref ? storage.objectExists(ref.key, ref.bucket) : true;
}
