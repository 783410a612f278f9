import { UsageError, type CliConfig } from "../args.js";
import { deploymentClient } from "../client.js";
import { hostnameUrl } from "../format.js";
import type { Output } from "../output.js";
import { DeploymentStatus, type Deployment } from "@ctrl/proto";

/**
 * The deployment currently serving `target`'s environment: ready, same project and environment,
 * holding a non-per-commit hostname (the environment or live domain; per-commit and per-branch
 * domains contain `-git-`). That is what Rollback needs as its source.
 */
export function currentEnvironmentDeployment(target: Deployment, candidates: Deployment[]): Deployment | undefined {
  return candidates.find(
    (d) =>
      d.id !== target.id &&
      d.environmentId === target.environmentId &&
      d.status === DeploymentStatus.READY &&
      d.hostnames.some((h) => !h.includes("-git-")),
  );
}

/** `ctrl rollback <target> [--source ID]`: the live and environment domains go back to `target`; the project is pinned. */
export async function rollbackCommand(config: CliConfig, targetId: string, sourceId: string | undefined, out: Output): Promise<number> {
  const client = deploymentClient(config);
  let source = sourceId;
  if (!source) {
    const { deployment: target } = await client.getDeployment({ deploymentId: targetId });
    if (!target) throw new Error(`deployment ${targetId} not found`);
    const page = await client.listDeployments({ projectId: target.projectId, pageSize: 100 });
    const current = currentEnvironmentDeployment(target, page.deployments);
    if (!current) throw new UsageError(`no other deployment serves the environment of ${targetId}: pass --source <live deployment id>`);
    source = current.id;
  }
  await client.rollback({ sourceDeploymentId: source, targetDeploymentId: targetId });
  const { deployment } = await client.getDeployment({ deploymentId: targetId });
  out.result(
    { rolledBackFrom: source, deploymentId: targetId, hostnames: deployment?.hostnames ?? [] },
    `rolled back from ${source} to ${targetId}${deployment?.hostnames.length ? `\n${deployment.hostnames.map((h) => `  ${hostnameUrl(h)}`).join("\n")}` : ""}`,
  );
  return 0;
}

/** `ctrl promote <id>`: the live and environment domains go to the deployment; the rollback pin is cleared. */
export async function promoteCommand(config: CliConfig, deploymentId: string, out: Output): Promise<number> {
  const client = deploymentClient(config);
  await client.promote({ targetDeploymentId: deploymentId });
  const { deployment } = await client.getDeployment({ deploymentId });
  out.result(
    { promoted: deploymentId, hostnames: deployment?.hostnames ?? [] },
    `promoted ${deploymentId}${deployment?.hostnames.length ? `\n${deployment.hostnames.map((h) => `  ${hostnameUrl(h)}`).join("\n")}` : ""}`,
  );
  return 0;
}
