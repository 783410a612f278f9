import type { CliConfig } from "../args.js";
import { deploymentClient } from "../client.js";
import { deploymentJson, formatDeployment } from "../format.js";
import type { Output } from "../output.js";
import { plainJson, rolloutColumns } from "../rollout-format.js";
import { DeploymentStatus } from "@ctrl/proto";

/** `ctrl status <id>`: the deployment, its rollout (ROLLOUT, CTRL), steps, hostnames and error. Exit 1 when it failed. */
export async function statusCommand(config: CliConfig, deploymentId: string, out: Output, frontlinePort?: number): Promise<number> {
  const { deployment } = await deploymentClient(config).getDeployment({ deploymentId });
  if (!deployment) throw new Error(`deployment ${deploymentId} not found`);
  out.result(
    { ...deploymentJson(deployment), rollout: deployment.rollout ? plainJson(deployment.rollout) : null },
    `${formatDeployment(deployment, frontlinePort)}\n${rolloutColumns(deployment.rollout)}`,
  );
  return deployment.status === DeploymentStatus.FAILED ? 1 : 0;
}
