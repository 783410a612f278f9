import type { ReconcileContext, ReconcilePass } from "./context.js";

/** Stops the instances beyond the replica count (they go first). */
export async function scaleDown(ctx: ReconcileContext, { state, spec }: ReconcilePass): Promise<void> {
  const extra = [...state.instances.entries()].filter(([ordinal]) => ordinal >= spec.replicas);
  for (const [ordinal] of extra) state.instances.delete(ordinal);
  await Promise.all(extra.map(([, sup]) => ctx.launcher.stop(sup)));
  if (extra.length) ctx.emit(spec.kind, spec.name);
}
