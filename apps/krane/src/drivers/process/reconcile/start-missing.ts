import type { LocalArtifact } from "../artifacts.js";
import type { InstanceSupervisor } from "../instance.js";
import type { ReconcileContext, ReconcilePass } from "./context.js";

/** Starts an instance for every ordinal below the replica count that has none. */
export async function startMissing(ctx: ReconcileContext, { state, spec, hash }: ReconcilePass, artifact: LocalArtifact): Promise<void> {
  const started: InstanceSupervisor[] = [];
  for (let ordinal = 0; ordinal < spec.replicas; ordinal++) {
    if (state.instances.has(ordinal)) continue;
    const sup = await ctx.launcher.create(spec, ordinal, hash, artifact);
    state.instances.set(ordinal, sup);
    started.push(sup);
  }
  if (started.length) ctx.emit(spec.kind, spec.name);
  await Promise.all(started.map((s) => s.launch()));
}
