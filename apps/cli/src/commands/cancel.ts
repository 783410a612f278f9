import { DeploymentLifecycleService } from "@ctrl/proto";
import type { CliConfig } from "../args.js";
import type { CancelFlags } from "../lifecycle-args.js";
import type { Output } from "../output.js";
import { connectClient } from "./vars.js";

/** `ctrl cancel <id>`: asks the deploy to stop at its next step. JSON: `{deploymentId, status, cancelRequested: true}`. */
export async function cancelCommand(config: CliConfig, deploymentId: string, flags: CancelFlags, out: Output): Promise<number> {
  const res = await connectClient(DeploymentLifecycleService, config).cancelDeployment({
    deploymentId,
    ...(flags.reason ? { reason: flags.reason } : {}),
  });
  out.result(
    { deploymentId: res.deploymentId, status: res.status, cancelRequested: true },
    `cancelling ${res.deploymentId} (was ${res.status}): it stops at its next step and ends cancelled (ctrl status ${res.deploymentId})`,
  );
  return 0;
}

/**
 * `ctrl stop|start <id>`: standby or running in every region of the deployment. JSON:
 * `{deploymentId, desiredState: "standby"|"running", regions, changedRegions}`.
 */
export async function deploymentStateCommand(
  config: CliConfig,
  command: "stop" | "start",
  deploymentId: string,
  out: Output,
): Promise<number> {
  const client = connectClient(DeploymentLifecycleService, config);
  const res = command === "stop" ? await client.stopDeployment({ deploymentId }) : await client.startDeployment({ deploymentId });
  const what = res.desiredState === "standby" ? "stopped (standby)" : "running";
  out.result(
    { deploymentId: res.deploymentId, desiredState: res.desiredState, regions: res.regions, changedRegions: res.changedRegions },
    res.changedRegions.length
      ? `${res.deploymentId} is ${what} in ${res.changedRegions.join(", ")}`
      : `${res.deploymentId} was already ${what} (${res.regions.join(", ") || "no regions"})`,
  );
  return 0;
}

/** `ctrl rm <id>`: deletes (archives) a finished deployment. JSON: `{deploymentId, removedHostnames, stoppedRegions, archived: true}`. */
export async function deleteCommand(config: CliConfig, deploymentId: string, out: Output): Promise<number> {
  const res = await connectClient(DeploymentLifecycleService, config).deleteDeployment({ deploymentId });
  out.result(
    { deploymentId: res.deploymentId, removedHostnames: res.removedHostnames, stoppedRegions: res.stoppedRegions, archived: true },
    [
      `deleted ${res.deploymentId} (archived)`,
      ...(res.stoppedRegions.length ? [`  instances stopped in ${res.stoppedRegions.join(", ")}`] : []),
      ...(res.removedHostnames.length ? [`  no longer routed: ${res.removedHostnames.join(", ")}`] : []),
    ].join("\n"),
  );
  return 0;
}
