import type { ObservedInstance, ObservedWorkload, WorkloadKind } from "../../workload.js";
import { instanceName, specHash, type WorkloadState } from "./workload-state.js";

/**
 * A workload's observed state: one instance per desired ordinal (its supervisor's state, or
 * pending/failed from the pull), plus a failed `<name>-next` when the new image cannot run.
 */
export function observeWorkload(state: WorkloadState, kind: WorkloadKind, name: string): ObservedWorkload {
  const { spec } = state;
  const base = { cpuMillicores: spec.cpuMillicores, memoryMib: spec.memoryMib, image: spec.image };
  const instances: ObservedInstance[] = [];
  for (let ordinal = 0; ordinal < spec.replicas; ordinal++) {
    const sup = state.instances.get(ordinal);
    const name = instanceName(spec.name, ordinal);
    // An instance from an older spec still serves until its replacement is healthy: report it as is.
    if (sup) {
      const s = sup.current();
      instances.push({
        ...base,
        name,
        address: sup.address,
        phase: s.phase,
        ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}),
        ...(s.failureReason ? { failureReason: s.failureReason } : {}),
        ...(s.haltIntent ? { haltIntent: s.haltIntent } : {}),
        ...(s.halt ? { halt: s.halt } : {}),
        image: sup.record.image,
      });
    } else if (state.pull) {
      instances.push({
        ...base,
        name,
        address: "",
        phase: state.pull.permanent ? "failed" : "pending",
        failureReason: state.pull.reason,
      });
    } else {
      instances.push({ ...base, name, address: "", phase: "pending" });
    }
  }
  // Old instances still serve while the new image cannot run (a rejected pull, a failed surge
  // replacement): report that failure as an instance of the new image, so whoever waits for it
  // (a fleet rollout's deploy) learns why instead of timing out.
  if (instances.some((i) => i.image !== spec.image)) {
    const failure: { reason: string; exitCode?: number } | undefined = state.pull?.permanent
      ? { reason: state.pull.reason }
      : state.replaceFailure?.hash === specHash(spec)
        ? state.replaceFailure
        : undefined;
    if (failure)
      instances.push({
        ...base,
        name: `${spec.name}-next`,
        address: "",
        phase: "failed",
        failureReason: failure.reason,
        ...(failure.exitCode !== undefined ? { exitCode: failure.exitCode } : {}),
      });
  }
  return { kind, name, image: spec.image, desiredReplicas: spec.replicas, instances };
}
