import * as restate from "@restatedev/restate-sdk";
import { DeployFailure } from "../../steps.js";
import { buildServiceName, parseBuildFailure, type BuildResult, type BuildServiceApi } from "../build-service/api.js";
import { setDeployStatus, type DeployRun } from "./deploy-run.js";
import type { DeployMeta } from "./metadata.js";

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

/**
 * Step `build` for a build-context deploy (status `building`, then `deploying` with the built
 * image); an image deploy only checks it has an image and goes to `deploying`.
 */
export async function buildOrImageStep(run: DeployRun, meta: DeployMeta): Promise<void> {
  if (meta.sourceType === "build_context") {
    await setDeployStatus(run, { status: "building" });
    const built = await run.steps.step("build", "building the context", async () => {
      if (!meta.buildContextPath) throw new DeployFailure("invalid_deployment", "build context deploy without a build context path");
      const result = await runBuildStep(run.ctx, {
        deploymentId: run.deploymentId,
        projectId: meta.projectId,
        contextKey: meta.buildContextPath,
        dockerfilePath: meta.dockerfilePath,
      });
      return { value: result, message: `built ${result.image}` };
    });
    await setDeployStatus(run, { status: "deploying", image: built.image, buildId: built.buildId });
  } else {
    if (!meta.image) throw new DeployFailure("invalid_deployment", "image deploy without an image");
    await setDeployStatus(run, { status: "deploying" });
  }
}
