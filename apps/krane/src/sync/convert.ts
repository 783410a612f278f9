import type { ApplyDeployment, ApplySentinel } from "@ctrl/proto";
import type { Vault } from "@ctrl/vault";
import type { DesiredWorkload } from "../workload.js";
import { decryptEnv } from "./env.js";

/** Names become file names and instance names: keep them to a safe alphabet. */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,190}$/;

/** Why a name from the control plane cannot be used, or undefined. */
export function badName(name: string): string | undefined {
  return namePattern.test(name) ? undefined : `k8s_name ${JSON.stringify(name)} must match ${namePattern}`;
}

/**
 * ApplyDeployment → DesiredWorkload, with the variables decrypted by `vault` (env decryption failures
 * surface as the instances' failure). `onDropped` hears the reserved names (PORT, CTRL_*) the
 * deployment tried to set, which the agent's own values override.
 */
export function deploymentWorkload(apply: ApplyDeployment, vault?: Vault, onDropped?: (names: string[]) => void): DesiredWorkload {
  const env = decryptEnv(apply.encryptedEnvironmentVariables, apply.deploymentId, vault);
  if ("dropped" in env && env.dropped.length > 0) onDropped?.(env.dropped);
  return {
    kind: "deployment",
    name: apply.k8sName,
    id: apply.deploymentId,
    workspaceId: apply.workspaceId,
    projectId: apply.projectId,
    environmentId: apply.environmentId,
    image: apply.image,
    replicas: Math.max(0, apply.replicas),
    cpuMillicores: Number(apply.cpuMillicores),
    memoryMib: Number(apply.memoryMib),
    command: [...apply.command],
    healthCheckPath: apply.healthCheckPath,
    port: apply.port,
    env: "env" in env ? env.env : {},
    ...(apply.encryptedEnvironmentVariables.length > 0
      ? { encryptedEnv: Buffer.from(apply.encryptedEnvironmentVariables).toString("base64") }
      : {}),
    ...("error" in env ? { envError: env.error } : {}),
  };
}

/** ApplySentinel → DesiredWorkload (a sentinel runs like a deployment, from its image). */
export function sentinelWorkload(apply: ApplySentinel): DesiredWorkload {
  return {
    kind: "sentinel",
    name: apply.k8sName,
    id: apply.sentinelId,
    workspaceId: apply.workspaceId,
    projectId: apply.projectId,
    environmentId: apply.environmentId,
    image: apply.image,
    replicas: Math.max(0, apply.replicas),
    cpuMillicores: Number(apply.cpuMillicores),
    memoryMib: Number(apply.memoryMib),
    command: [],
    healthCheckPath: "",
    port: 0,
    env: {},
  };
}
