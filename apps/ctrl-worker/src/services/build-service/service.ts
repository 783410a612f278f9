import * as restate from "@restatedev/restate-sdk";
import { buildServiceName } from "../../contract.js";
import type { WorkerDeps } from "../../deps.js";
import type { BuildRequest, BuildResult } from "./api.js";
import { build } from "./build.js";

/**
 * BuildService — unkeyed Restate service. `build` turns a deployment's build context into a
 * runnable artifact (local builder) or image (Docker backend); see api.ts for the contract.
 *
 * The build itself is one `ctx.run` step bounded by `BUILD_TIMEOUT_SECONDS`. If the worker dies
 * mid-build, Restate re-invokes the handler and the step runs again from scratch with the same
 * build id, artifact key and `builds` row (derived from the deployment id), so one deployment never
 * gets two artifacts. The invocation's own timeouts are raised above the build timeout (a silent
 * handler is not a stalled one while it builds), and its retries are bounded and end in `kill`,
 * which the calling workflow receives as a terminal error: a deployment never stays `building`.
 */
export function createBuildService(deps: WorkerDeps) {
  const config = deps.build;
  const timeoutMs = config?.timeoutMs ?? 600_000;
  return restate.service({
    name: buildServiceName,
    handlers: {
      /** Builds the context of one deployment; idempotent per deployment id. */
      build: (ctx: restate.Context, request: BuildRequest): Promise<BuildResult> => build(ctx, deps, request),
    },
    options: {
      // A build is silent towards Restate while it runs: allow the whole build timeout plus margin.
      inactivityTimeout: timeoutMs + 60_000,
      abortTimeout: 60_000,
      // Crashes mid-build re-run it; bounded, and `kill` hands the caller a terminal error.
      retryPolicy: { maxAttempts: 10, onMaxAttempts: "kill", initialInterval: 1_000, maxInterval: 30_000 },
    },
  });
}
