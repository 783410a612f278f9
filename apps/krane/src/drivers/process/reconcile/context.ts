import type { Logger } from "pino";
import type { DesiredWorkload, WorkloadKind } from "../../../workload.js";
import type { ArtifactCache } from "../artifacts.js";
import type { InstanceLauncher } from "../launcher.js";
import type { WorkloadState } from "../workload-state.js";

/** What a reconcile pass needs from the process driver. */
export interface ReconcileContext {
  logger: Logger;
  launcher: InstanceLauncher;
  cache: ArtifactCache;
  /** Digests whose pull timings were logged already (once per digest and process). */
  loggedPulls: Set<string>;
  emit(kind: WorkloadKind, name: string): void;
  onChange(listener: (kind: WorkloadKind, name: string) => void): () => void;
  /** Schedules another pass after a backoff that grows with `state.pullAttempts`. */
  retryLater(state: WorkloadState): void;
  /** False once the driver closed or `state` is no longer its workload's state (deleted meanwhile). */
  isCurrent(state: WorkloadState): boolean;
  /** How long a rolling replacement waits for each new instance to become healthy. */
  rolloutStepTimeoutMs: number;
  /** How long a replaced instance keeps serving after its replacement is reported. */
  replaceDrainMs: number;
}

/** One pass over one workload: the spec it started from (a newer one may arrive meanwhile). */
export interface ReconcilePass {
  state: WorkloadState;
  spec: DesiredWorkload;
  hash: string;
  log: Logger;
}
