import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { dockerBuildCommand, dockerImageTag, parseDockerMetadata } from "../docker.js";
import { BuildError } from "../errors.js";
import type { BuildDirs } from "../sandbox.js";
import { buildSteps } from "../steps.js";
import { finishBuild } from "./finish.js";
import { runBuildCommand } from "./run-command.js";
import type { BuildOutput, BuildSession } from "./session.js";

/** Step `docker` (the Docker backend): `docker buildx build` and push, then the image by digest. */
export async function dockerStep(b: BuildSession): Promise<BuildOutput> {
  const { config, job, dirs } = b;
  if (!config.docker)
    throw new BuildError(
      buildSteps.docker,
      "build_not_configured",
      "BUILD_BACKEND=docker needs BUILD_DOCKER_REPOSITORY (the registry/repository to push to)",
    );
  await b.open(buildSteps.docker, "docker buildx build");
  const metadataFile = join(dirs.root, "buildx-metadata.json");
  const argv = dockerBuildCommand(config.docker, {
    contextDir: dirs.app,
    dockerfilePath: job.dockerfilePath,
    projectId: job.projectId,
    buildId: job.buildId,
    metadataFile,
  });
  await runBuildCommand(b, buildSteps.docker, argv, dockerEnv(process.env, dirs));
  const digest = parseDockerMetadata(await readFile(metadataFile, "utf8").catch(() => ""));
  const tag = dockerImageTag(config.docker.repository, job.projectId, job.buildId);
  const image = digest ? `${tag}@${digest}` : tag;
  await b.reporter.step(buildSteps.docker, "completed", `pushed ${image}`);
  const sha = digest?.slice("sha256:".length) ?? null;
  await finishBuild(b.deps, job, image, sha, null);
  return { image, sha256: sha ?? "", cached: false, buildId: job.buildId, backend: "docker" };
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
