import type { createVersioningService } from "./service.js";

export { versioningServiceName } from "../../contract.js";

/** Type-only contract of `VersioningService` (virtual object, key = region) for callers. */
export type VersioningServiceApi = ReturnType<typeof createVersioningService>;

/** A desired-state change of one deployment in the object's region. */
export interface TopologyChange {
  workspaceId: string;
  deploymentId: string;
  desiredReplicas: number;
  desiredStatus: "running" | "stopped";
}

/** A desired-state change of one sentinel in the object's region. */
export interface SentinelChange {
  sentinelId: string;
  /** Required when the sentinel does not exist yet. */
  create?: {
    workspaceId: string;
    projectId: string;
    environmentId: string;
    k8sName: string;
    cpuMillicores: number;
    memoryMib: number;
  };
  image?: string;
  desiredReplicas?: number;
  desiredState?: "running" | "standby" | "archived";
}

/** Result of a committed versioned change. `changed` is false when the row already matched. */
export interface CommitResult {
  version: number;
  changed: boolean;
}
