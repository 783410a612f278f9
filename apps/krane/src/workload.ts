/** The two kinds of workload an agent runs. */
export type WorkloadKind = "deployment" | "sentinel";

/**
 * What the control plane wants running for one deployment or sentinel in this region: the
 * driver-neutral form of ApplyDeployment / ApplySentinel.
 */
export interface DesiredWorkload {
  kind: WorkloadKind;
  /** `k8s_name`: the workload's name in this region (instances are named after it). */
  name: string;
  /** deployment_id or sentinel_id (what GetDesired*State takes). */
  id: string;
  workspaceId: string;
  projectId: string;
  environmentId: string;
  /** For the process driver an artifact reference `s3://bucket/key@sha256:…`. */
  image: string;
  replicas: number;
  cpuMillicores: number;
  memoryMib: number;
  /** Overrides the artifact's start command when non-empty (executed directly, no shell). */
  command: string[];
  /** Health path from the deployment (empty: the manifest's, else `/health`). */
  healthCheckPath: string;
  /** The port the app declares; the process driver assigns `PORT` itself and ignores it. */
  port: number;
  /** Environment variables already decrypted (names → values); kept in memory only. */
  env: Record<string, string>;
  /**
   * The control plane's encrypted blob of `env` (base64), when the variables came encrypted: what
   * the driver stores on disk instead of `env`, and decrypts again after an agent restart.
   */
  encryptedEnv?: string;
  /** Set when the variables could not be decrypted: the instances fail with this reason instead of starting. */
  envError?: string;
}

/** Observed state of one instance, as the report carries it. */
export type InstancePhase = "pending" | "running" | "failed";

/** One instance of a workload as the driver sees it now. */
export interface ObservedInstance {
  /** Unique in the region: the report's `k8s_name`. */
  name: string;
  /** host:port where it serves (empty when it never started). */
  address: string;
  phase: InstancePhase;
  cpuMillicores: number;
  memoryMib: number;
  /** Exit code of its last exit, if it exited. */
  exitCode?: number;
  /** Why it is failed or restarting, e.g. `image_pull_failed: …`. */
  failureReason?: string;
  /** The image this instance runs. */
  image: string;
  /** Set when the app halted on purpose (exit code 70/71/72 or `$CTRL_HALT_FILE`). */
  haltIntent?: string;
  /** The `halt_intent` its status path served (docs/halt-contract.md): live, or the last one seen before it exited. */
  halt?: { reason: string; planName?: string; height?: number; info?: string; announcedAt?: number };
}

/** Observed state of one workload. */
export interface ObservedWorkload {
  kind: WorkloadKind;
  name: string;
  image: string;
  desiredReplicas: number;
  instances: ObservedInstance[];
}

/** Identifies a workload across kinds. */
export function workloadKey(kind: WorkloadKind, name: string): string {
  return `${kind}/${name}`;
}
