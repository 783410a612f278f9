import { specHash, type WorkloadState } from "../workload-state.js";
import type { ReconcileContext, ReconcilePass } from "./context.js";
import { ensureArtifact } from "./pull.js";
import { scaleDown } from "./scale-down.js";
import { startMissing } from "./start-missing.js";
import { replaceOutdated } from "./surge.js";

/**
 * One reconcile pass of a workload: scale down → pull the artifact → start missing ordinals →
 * replace instances of an older spec one at a time (surge). Each step works on the spec the pass
 * started from; a change that arrives meanwhile is picked up by the next pass.
 */
export async function reconcileOnce(ctx: ReconcileContext, state: WorkloadState): Promise<void> {
  const { spec } = state;
  const pass: ReconcilePass = {
    state,
    spec,
    hash: specHash(spec),
    log: ctx.logger.child({ kind: spec.kind, workload: spec.name, id: spec.id }),
  };
  await scaleDown(ctx, pass);
  if (spec.replicas === 0) return;
  const artifact = await ensureArtifact(ctx, pass);
  if (!artifact) return;
  await startMissing(ctx, pass, artifact);
  await replaceOutdated(ctx, pass, artifact);
}
