import type { CliConfig } from "../args.js";
import { deploymentClient } from "../client.js";
import { deploymentJson, formatDeployment } from "../format.js";
import type { Output } from "../output.js";
import { DeploymentStatus } from "@ctrl/proto";

/** `ctrl status <id>`: the deployment, its steps, hostnames and error. Exit 1 when it failed. */
export async function statusCommand(config: CliConfig, deploymentId: string, out: Output, frontlinePort?: number): Promise<number> {
  const { deployment } = await deploymentClient(config).getDeployment({ deploymentId });
  if (!deployment) throw new Error(`deployment ${deploymentId} not found`);
  out.result(deploymentJson(deployment), formatDeployment(deployment, frontlinePort));
  return deployment.status === DeploymentStatus.FAILED ? 1 : 0;
}
