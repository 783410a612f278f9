import type { ApplyDeployment, ApplySentinel } from "@ctrl/proto";
import type { DesiredWorkload } from "../workload.js";

/** Names become file names and instance names: keep them to a safe alphabet. */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,190}$/;

/** Why a name from the control plane cannot be used, or undefined. */
export function badName(name: string): string | undefined {
  return namePattern.test(name) ? undefined : `k8s_name ${JSON.stringify(name)} must match ${namePattern}`;
}

/**
 * Decrypts `encrypted_environment_variables`. Nothing is encrypted yet (ctrl-api sends empty
 * bytes); anything else is refused rather than run without its variables.
 */
export function decryptEnv(bytes: Uint8Array): { env: Record<string, string> } | { error: string } {
  if (bytes.length === 0) return { env: {} };
  return { error: "env_decrypt_failed: the deployment has encrypted environment variables but this agent has no decryption key configured" };
}

/** ApplyDeployment → DesiredWorkload (env decryption failures surface as the instances' failure). */
export function deploymentWorkload(apply: ApplyDeployment): DesiredWorkload {
  const env = decryptEnv(apply.encryptedEnvironmentVariables);
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
