import { create } from "@bufbuild/protobuf";
import type { SentinelSyncRow, TopologySyncRow } from "@ctrl/db";
import { DeploymentStateSchema, SentinelStateSchema, type DeploymentState, type SentinelState } from "@ctrl/proto";

/**
 * Naming on the agents' side: a deployment's k8s namespace is its workspace id and its k8s name is
 * the deployment id (ReportDeploymentStatus.Update.k8s_name refers back to it); an instance's k8s
 * name is the agent's; a sentinel's k8s name is the `sentinels.k8s_name` column.
 */
export const k8sNamespaceOf = (row: { workspaceId: string }) => row.workspaceId;

function parseCommand(command: string | null): string[] {
  if (!command) return [];
  try {
    const parsed = JSON.parse(command) as unknown;
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}

/**
 * The agent's view of a topology row: `apply` with everything needed to run it (image, replicas,
 * CPU, memory, command, port, health path, the encrypted variables from `deploymentEnvBytes`),
 * `delete` once it is stopped. `withVersion: false` leaves the version unset (GetDesiredDeploymentState).
 */
export function deploymentState(row: TopologySyncRow, withVersion = true, encryptedEnv: Uint8Array = new Uint8Array()): DeploymentState {
  const k8s = { k8sNamespace: k8sNamespaceOf(row), k8sName: row.deploymentId };
  return create(DeploymentStateSchema, {
    version: withVersion ? BigInt(row.version) : 0n,
    state:
      row.desiredStatus === "running"
        ? {
            case: "apply",
            value: {
              ...k8s,
              workspaceId: row.workspaceId,
              projectId: row.projectId,
              environmentId: row.environmentId,
              deploymentId: row.deploymentId,
              image: row.image ?? "",
              replicas: row.desiredReplicas,
              cpuMillicores: BigInt(row.cpuMillicores),
              memoryMib: BigInt(row.memoryMib),
              ...(row.buildId ? { buildId: row.buildId } : {}),
              encryptedEnvironmentVariables: encryptedEnv,
              command: parseCommand(row.command),
              port: row.port,
              healthCheckPath: row.healthCheckPath,
            },
          }
        : { case: "delete", value: k8s },
  });
}

/** The agent's view of a sentinel row: `apply` (standby = 0 replicas) or `delete` once archived. */
export function sentinelState(row: SentinelSyncRow, withVersion = true): SentinelState {
  return create(SentinelStateSchema, {
    version: withVersion ? BigInt(row.version) : 0n,
    state:
      row.desiredState === "archived"
        ? { case: "delete", value: { k8sName: row.k8sName } }
        : {
            case: "apply",
            value: {
              k8sName: row.k8sName,
              workspaceId: row.workspaceId,
              projectId: row.projectId,
              environmentId: row.environmentId,
              sentinelId: row.sentinelId,
              image: row.image,
              replicas: row.desiredState === "standby" ? 0 : row.desiredReplicas,
              cpuMillicores: BigInt(row.cpuMillicores),
              memoryMib: BigInt(row.memoryMib),
            },
          },
  });
}
