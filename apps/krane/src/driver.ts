import type { DesiredWorkload, ObservedWorkload, WorkloadKind } from "./workload.js";

/**
 * How an agent makes desired state real. The `process` driver runs local child processes; a
 * Kubernetes driver implements the same contract with ReplicaSets (apply = server-side apply,
 * list/observe = informers, start = nothing to adopt since the cluster keeps state).
 *
 * Contract:
 * - `apply` and `delete` are idempotent and return once the change is *accepted durably* (the
 *   driver will converge to it even across an agent restart), not once instances are healthy:
 *   the sync loop persists its cursor right after they return.
 * - Convergence (pulling, starting, health checks, restarts) happens in the background; every
 *   observable change is announced through `onChange`.
 */
export interface Driver {
  /** Adopts what a previous agent process left running and resumes convergence. Called once, first. */
  start(): Promise<void>;
  apply(workload: DesiredWorkload): Promise<void>;
  delete(kind: WorkloadKind, name: string): Promise<void>;
  /** The workloads it currently holds as desired (what resync checks and GC removes). */
  list(kind: WorkloadKind): DesiredWorkload[];
  /** The current observed state, or undefined for a workload it does not know. */
  observe(kind: WorkloadKind, name: string): ObservedWorkload | undefined;
  /** Called with a workload whenever something observable about it changed (including its removal). */
  onChange(listener: (kind: WorkloadKind, name: string) => void): () => void;
  /** Stops supervising and releases resources; instances keep running for the next agent to adopt. */
  close(): Promise<void>;
}
