import type { BuildErrorReason } from "@ctrl/build";
import { formatWorkerError } from "../../contract.js";
import type { createBuildService } from "./service.js";

/**
 * Contract of `BuildService` (Restate service, unkeyed): turns a build context in S3 into something
 * the agent runs. The deploy workflow calls it when the deployment's source is a build context:
 *
 *   const result = await ctx.serviceClient<BuildServiceApi>({ name: buildServiceName })
 *     .build({ deploymentId, projectId, contextKey, dockerfilePath });
 *
 * Guarantees (see service.ts):
 * - One build per deployment: the build id and the artifact key are derived from the deployment id,
 *   the upload is idempotent and the `builds` row is an upsert, so a retried or replayed call (e.g.
 *   after a worker crash mid-build) never produces a second artifact.
 * - Bounded: the build runs under `BUILD_TIMEOUT_SECONDS`; it ends in a result or a TerminalError,
 *   so the caller's deployment never stays `building` forever.
 * - Progress: steps `build:fetch`, `build:extract`, `build:install`, `build:compile`, `build:pack`,
 *   `build:upload` (docker: `build:docker`) are written to `deployment_steps` as they happen, and the
 *   build log to `build_logs` (see packages/build/README.md). On success the service has already set
 *   `deployments.image` and `deployments.build_id`; the caller only moves the status on.
 * - Failure: a TerminalError (HTTP code 412, `failed_precondition`) whose message is
 *   {@link formatBuildFailure}'s output; {@link parseBuildFailure} recovers the failing step and the
 *   structured reason so the workflow can record `failed_step`/`failure_reason`.
 */
export { buildServiceName } from "../../contract.js";

/** Input of `build`. */
export interface BuildRequest {
  deploymentId: string;
  projectId: string;
  /** S3 key of the uploaded context, `<projectId>/build_<id>.tar.gz` (`deployments.build_context_path`). */
  contextKey: string;
  /** Dockerfile path inside the context (docker backend only); defaults to `Dockerfile`. */
  dockerfilePath?: string | null;
}

/**
 * Output of `build` and the reasons it fails with: the builder's own types (`@ctrl/build`), named
 * here for callers of the service. Type-only, so ctrl-api loads no build code.
 */
export type { BuildOutput as BuildResult, BuildErrorReason as BuildFailureReason } from "@ctrl/build";

/** A parsed build failure. */
export interface BuildFailure {
  /** The failing step, e.g. `build:compile`. */
  step: string;
  reason: BuildErrorReason;
  /** Human-readable message; for a failed command it ends with the command's last log lines. */
  message: string;
}

/** The TerminalError message of a failed build: `failed_precondition: [<step>] <reason>: <message>`. */
export function formatBuildFailure(failure: BuildFailure): string {
  return formatWorkerError("failed_precondition", `[${failure.step}] ${failure.reason}: ${failure.message}`);
}

/** Recovers a {@link BuildFailure} from a TerminalError message, or undefined for other errors. */
export function parseBuildFailure(message: string): BuildFailure | undefined {
  const m = /^(?:failed_precondition: )?\[([a-z:_-]+)\] (build_[a-z_]+): ([\s\S]*)$/.exec(message);
  if (!m) return undefined;
  return { step: m[1]!, reason: m[2] as BuildErrorReason, message: m[3]! };
}

/** Type-only handle of the service definition, for `ctx.serviceClient<BuildServiceApi>(…)`. */
export type BuildServiceApi = ReturnType<typeof createBuildService>;
