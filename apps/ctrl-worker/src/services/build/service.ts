import * as restate from "@restatedev/restate-sdk";
import type { WorkerDeps } from "../../deps.js";
import type { BuildRequest, BuildResult } from "./api.js";
import { buildFailureError } from "./failure.js";

/**
 * BuildService — unkeyed Restate service. `build` turns a deployment's build context into a
 * runnable artifact or image (see api.ts for the guarantees). Skeleton: until a backend is
 * configured every build fails with `build_not_configured`.
 */
export function createBuildService(deps: WorkerDeps) {
  return restate.service({
    name: "BuildService",
    handlers: {
      /** Builds the context of one deployment; idempotent per deployment id. */
      build: async (_ctx: restate.Context, request: BuildRequest): Promise<BuildResult> => {
        void deps;
        throw buildFailureError({
          step: "build:fetch",
          reason: "build_not_configured",
          message: `no build backend is configured for deployment ${request.deploymentId}: set BUILD_BACKEND=local (or docker) on ctrl-worker`,
        });
      },
    },
  });
}
