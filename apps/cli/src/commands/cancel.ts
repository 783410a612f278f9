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
