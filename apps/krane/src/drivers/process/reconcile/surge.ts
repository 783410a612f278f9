import { randomBytes } from "node:crypto";
import type { LocalArtifact } from "../artifacts.js";
import type { InstanceSupervisor } from "../instance.js";
import { instanceName, specHash } from "../workload-state.js";
import type { ReconcileContext, ReconcilePass } from "./context.js";

/**
 * Instances started from an older spec (a sentinel's new image) are replaced one at a time
 * with surge: the new instance starts beside the old one (its own name and port), and only
 * once it answers its health path does it take the ordinal and the old one stop. So even a
 * single-replica sentinel keeps serving throughout, and a bad image never takes an old
 * instance down: a replacement that fails is stopped, recorded in `replaceFailure` (reported
 * as a failed instance of the new image) and not retried until the spec changes.
 */
export async function replaceOutdated(
  ctx: ReconcileContext,
  { state, spec, hash, log }: ReconcilePass,
  artifact: LocalArtifact,
): Promise<void> {
  if (state.replaceFailure && state.replaceFailure.hash !== hash) state.replaceFailure = undefined;
  const timeoutMs = ctx.rolloutStepTimeoutMs;
  // Only a different spec supersedes a replacement: the periodic resync re-applies the same spec
  // (setting `again`), and aborting then would restart a slow-starting replacement forever.
  const superseded = () => !ctx.isCurrent(state) || specHash(state.spec) !== hash;
  for (const [ordinal, old] of [...state.instances.entries()].filter(([, sup]) => sup.record.specHash !== hash)) {
    if (superseded()) return; // a newer spec arrived: the next pass takes over
    if (state.replaceFailure) return;
    log.info({ instance: old.name }, "replacing an instance started from an older spec (surge)");
    const sup = await ctx.launcher.create(
      spec,
      ordinal,
      hash,
      artifact,
      `${instanceName(spec.name, ordinal)}-${randomBytes(3).toString("hex")}`,
    );
    await sup.launch();
    const settled = await settle(ctx, sup, timeoutMs, superseded);
    if (superseded() || settled !== "running") {
      const failed = sup.current();
      await ctx.launcher.stop(sup);
      if (superseded()) return;
      state.replaceFailure = {
        hash,
        reason:
          settled === "timeout"
            ? `start_failed: did not answer ${sup.record.healthPath} within ${timeoutMs} ms`
            : (failed.failureReason ?? "start_failed"),
        ...(failed.exitCode !== undefined ? { exitCode: failed.exitCode } : {}),
      };
      log.warn(
        { instance: sup.name, outcome: settled, reason: state.replaceFailure.reason },
        "replacement did not become healthy; the old instances keep running",
      );
      ctx.emit(spec.kind, spec.name);
      return;
    }
    state.instances.set(ordinal, sup);
    ctx.emit(spec.kind, spec.name);
    // Drain: whoever routes by the reported addresses (frontline) learns the new one before the old one goes.
    await new Promise((r) => setTimeout(r, ctx.replaceDrainMs).unref());
    await ctx.launcher.stop(old);
  }
}

/** Resolves once the instance is running, has failed for good, or the timeout passed. */
function settle(
  ctx: ReconcileContext,
  sup: InstanceSupervisor,
  timeoutMs: number,
  superseded: () => boolean,
): Promise<"running" | "failed" | "timeout" | "superseded"> {
  return new Promise((resolve) => {
    const check = () => {
      const phase = sup.current().phase;
      if (phase === "running" || phase === "failed") finish(phase);
      else if (superseded()) finish("superseded");
    };
    const off = ctx.onChange(check);
    // A newer spec or a delete emits nothing for this instance: look now and then.
    const poll = setInterval(check, 200);
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    function finish(outcome: "running" | "failed" | "timeout" | "superseded") {
      off();
      clearInterval(poll);
      clearTimeout(timer);
      resolve(outcome);
    }
    check();
  });
}
