import type { Db } from "@ctrl/db";
import type { Storage } from "@ctrl/s3";
import type { DockerBackendConfig } from "../docker.js";
import type { BuildSandboxLimits } from "../isolation.js";
import type { ContextLimits } from "../limits.js";
import type { BuildDirs } from "../sandbox.js";
import { buildSteps, type BuildReporter, type BuildStepName } from "../steps.js";

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
 * One attempt of one build, shared by its steps: what it builds with, its directories, its
 * deadline, and the step that is running (what a transient error or a refused connection is
 * logged under).
 */
export class BuildSession {
  current: BuildStepName = buildSteps.fetch;

  constructor(
    readonly deps: BuildDeps,
    readonly config: BuildConfig,
    readonly job: BuildJob,
    readonly reporter: BuildReporter,
    readonly dirs: BuildDirs,
    /** `Date.now()` by which every command must have finished. */
    readonly deadline: number,
  ) {}

  /** Marks `step` running (and current). */
  async open(step: BuildStepName, message: string): Promise<void> {
    this.current = step;
    await this.reporter.step(step, "running", message);
  }
}
