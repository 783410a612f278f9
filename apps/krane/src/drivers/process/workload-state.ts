import { createHash } from "node:crypto";
import type { DesiredWorkload } from "../../workload.js";
import type { LocalArtifact } from "./artifacts.js";
import type { InstanceSupervisor } from "./instance.js";

/** Why a workload has no runnable instances. */
export interface PullFailure {
  /** Permanent (bad reference, digest mismatch, bad archive): no retry until the spec changes. */
  permanent: boolean;
  reason: string;
}

/** What the process driver holds about one desired workload. */
export interface WorkloadState {
  spec: DesiredWorkload;
  instances: Map<number, InstanceSupervisor>;
  pull?: PullFailure;
  pullAttempts: number;
  artifact?: LocalArtifact;
  /** Reconcile serialization: one pass at a time, a rerun flag for changes that arrive meanwhile. */
  running?: Promise<void>;
  again: boolean;
  retryTimer?: NodeJS.Timeout;
  /** The surge replacement for spec `hash` failed: not retried until the spec changes, reported as a failed instance. */
  replaceFailure?: { hash: string; reason: string; exitCode?: number };
}

/** A workload with no instances, artifact or failure yet. */
export function newWorkloadState(spec: DesiredWorkload): WorkloadState {
  return { spec, instances: new Map(), pullAttempts: 0, again: false };
}

/** `<workload>-<ordinal>`: stable, so a replaced instance keeps its name (and its row). */
export function instanceName(workload: string, ordinal: number): string {
  return `${workload}-${ordinal}`;
}

/** What instances are started from; a change means replacing them (replicas are not part of it). */
export function specHash(spec: DesiredWorkload): string {
  const { image, command, env, memoryMib, cpuMillicores, healthCheckPath } = spec;
  const sortedEnv = Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1)));
  return createHash("sha256")
    .update(JSON.stringify({ image, command, env: sortedEnv, memoryMib, cpuMillicores, healthCheckPath }))
    .digest("hex")
    .slice(0, 16);
}
