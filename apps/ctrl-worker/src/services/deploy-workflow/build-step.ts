import * as restate from "@restatedev/restate-sdk";
import { DeployFailure } from "../../steps.js";
import { buildServiceName, parseBuildFailure, type BuildResult, type BuildServiceApi } from "../build-service/api.js";

/**
 * Builds the deployment's context through `BuildService.build` (which writes its own `build:*`
 * steps and sets `deployments.image`/`build_id`). A terminal build error becomes a
 * {@link DeployFailure} with the build's structured reason (e.g. `build_not_configured` until a
 * backend is set) and, in `failedStep`, the build step that failed.
 */
export async function runBuildStep(
  ctx: restate.WorkflowContext,
  req: { deploymentId: string; projectId: string; contextKey: string; dockerfilePath: string },
): Promise<BuildResult> {
  try {
    return await ctx.serviceClient<BuildServiceApi>({ name: buildServiceName }).build(req);
  } catch (err) {
    if (err instanceof restate.TerminalError && !(err instanceof restate.CancelledError)) {
      const parsed = parseBuildFailure(err.message);
      throw new DeployFailure(parsed?.reason ?? "build_failed", parsed?.message ?? err.message, parsed?.step);
    }
    throw err;
  }
}
