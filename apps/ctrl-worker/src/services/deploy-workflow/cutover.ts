import * as restate from "@restatedev/restate-sdk";
import type { DomainSpec } from "../../domains.js";
import { DeployFailure } from "../../steps.js";
import { deploymentServiceName, type DeploymentServiceApi, type SwitchResult } from "../deployment-service/api.js";
import type { DeployRun } from "./deploy-run.js";

/**
 * Step `cutover`: `DeploymentService.cutover` (keyed by project) assigns the routes; its terminal
 * rejection becomes a `cutover_rejected` failure.
 */
export function cutoverStep(run: DeployRun, projectId: string, domains: DomainSpec[]): Promise<SwitchResult> {
  return run.steps.step("cutover", "assigning routes", async () => {
    let result: SwitchResult;
    try {
      result = await run.ctx
        .objectClient<DeploymentServiceApi>({ name: deploymentServiceName }, projectId)
        .cutover({ deploymentId: run.deploymentId, domains });
    } catch (err) {
      if (err instanceof restate.TerminalError && !(err instanceof restate.CancelledError))
        throw new DeployFailure("cutover_rejected", err.message);
      throw err;
    }
    const held = result.heldHostnames?.length
      ? `; left in place (rolled-back pin or a newer deployment): ${result.heldHostnames.join(", ")}`
      : "";
    // Say what the pin means and how to lift it, in the words the CLI shows.
    const pin =
      result.isRolledBack && result.liveDeploymentId && result.liveDeploymentId !== run.deploymentId && result.heldHostnames?.length
        ? `; production is pinned to ${result.liveDeploymentId} by a rollback; run \`ctrl promote ${run.deploymentId}\` to deploy here again`
        : "";
    return { value: result, message: `routed ${result.repointedHostnames.join(", ")}${pin}${held}` };
  });
}
