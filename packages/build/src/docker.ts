import { posix } from "node:path";
import { BuildError } from "./errors.js";
import { runCommand } from "./runner.js";
import { buildSteps } from "./steps.js";

/** Settings of the Docker backend (BUILD_DOCKER_* variables). */
export interface DockerBackendConfig {
  /** Registry and repository images are pushed to, e.g. `registry.example.com/ctrl/apps`. */
  repository: string;
  /** Target platform, e.g. `linux/amd64`; the builder's default when unset. */
  platform?: string;
  /** A named buildx builder (e.g. a remote BuildKit); the current one when unset. */
  builder?: string;
  /** The docker CLI binary. Default `docker`. */
  binary?: string;
}

/** Input of {@link dockerBuildCommand}. */
export interface DockerBuildInput {
  contextDir: string;
  /** Relative to the context; default `Dockerfile`. */
  dockerfilePath?: string | null;
  projectId: string;
  buildId: string;
  /** Where buildx writes its metadata (the pushed digest). */
  metadataFile: string;
}

/** Default Dockerfile path inside a context (docs/wire.md: a missing path means `Dockerfile`). */
export const defaultDockerfilePath = "Dockerfile";

/**
 * Validates a Dockerfile path: relative, inside the context, no NUL. Returns it normalized.
 * A path escaping the context is a `build_context_invalid` failure naming the path.
 */
export function normalizeDockerfilePath(path: string | null | undefined): string {
  const raw = path?.trim() ? path.trim() : defaultDockerfilePath;
  if (raw.includes("\0")) throw new BuildError(buildSteps.docker, "build_context_invalid", "dockerfile path contains a NUL byte");
  if (posix.isAbsolute(raw) || raw.startsWith("\\")) {
    throw new BuildError(buildSteps.docker, "build_context_invalid", `dockerfile path "${raw}" must be relative to the build context`);
  }
  const normalized = posix.normalize(raw);
  if (normalized === ".." || normalized.startsWith("../")) {
    throw new BuildError(buildSteps.docker, "build_context_invalid", `dockerfile path "${raw}" points outside the build context`);
  }
  return normalized;
}

/** The image tag of a build: `<repository>:<projectId>-<buildId>` (tags allow mixed-case ids). */
export function dockerImageTag(repository: string, projectId: string, buildId: string): string {
  const tag = `${projectId}-${buildId}`;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw new Error(`"${tag}" is not a valid image tag`);
  if (!/^[a-z0-9]([a-z0-9._\-/:]*[a-z0-9])?$/.test(repository)) {
    throw new Error(`BUILD_DOCKER_REPOSITORY "${repository}" is not a valid lowercase registry/repository name`);
  }
  return `${repository}:${tag}`;
}

/**
 * The `docker buildx build` argv of one build: the Dockerfile inside the context, a tag per build,
 * pushed to the configured registry, plain progress (one log line per event) and a metadata file
 * from which {@link parseDockerMetadata} reads the pushed digest. Pure, so it is unit tested.
 */
export function dockerBuildCommand(config: DockerBackendConfig, input: DockerBuildInput): string[] {
  const dockerfile = normalizeDockerfilePath(input.dockerfilePath);
  const argv = [config.binary ?? "docker", "buildx", "build"];
  if (config.builder) argv.push("--builder", config.builder);
  argv.push("--file", posix.join(input.contextDir, dockerfile));
  argv.push("--tag", dockerImageTag(config.repository, input.projectId, input.buildId));
  if (config.platform) argv.push("--platform", config.platform);
  argv.push("--progress", "plain", "--metadata-file", input.metadataFile, "--push", input.contextDir);
  return argv;
}

/** The pushed image digest (`sha256:<hex>`) from buildx's metadata file, or undefined. */
export function parseDockerMetadata(text: string): string | undefined {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    const digest = value["containerimage.digest"];
    return typeof digest === "string" && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a Docker engine answers (`docker info` exits 0 within 10 s). */
export async function dockerAvailable(binary = "docker"): Promise<boolean> {
  const result = await runCommand([binary, "info", "--format", "{{.ServerVersion}}"], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" },
    timeoutMs: 10_000,
  });
  return result.exitCode === 0;
}
