import { hasAgentInRegion, loadDeploymentReadiness, type Db, type DeploymentReadiness } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { DeployFailure, type StepRunner } from "../../../steps.js";
import { evaluateReadiness, pendingHint, readinessPollInterval } from "../readiness.js";

/** A failure of one target (region) of a rollout; `reason` is the `@ctrl/rollout` failure kind. */
export class TargetFailure extends DeployFailure {
  constructor(
    kind: string,
    readonly region: string,
    readonly detail: string,
    readonly observed: Record<string, number> = {},
  ) {
    super(kind, detail);
  }
}

/** The part of a readiness snapshot about `regions`. */
export function snapshotOf(snapshot: DeploymentReadiness, regions: readonly string[]): DeploymentReadiness {
  return {
    regions: snapshot.regions.filter((r) => regions.includes(r.region)),
    failures: snapshot.failures.filter((f) => regions.includes(f.region)),
    runningAddress: snapshot.runningAddress,
    ...(snapshot.pendingReasons ? { pendingReasons: snapshot.pendingReasons.filter((p) => regions.includes(p.region)) } : {}),
  };
}

/** The first failed instance in a region that was already ready: `crashed_after_ready`, with its exit code. */
export function crashAfterReady(snapshot: DeploymentReadiness, readyRegions: readonly string[]): TargetFailure | undefined {
  const failure = snapshot.failures.find((f) => readyRegions.includes(f.region));
  if (!failure) return undefined;
  const exit = failure.exitCode === null ? "" : ` with exit code ${failure.exitCode}`;
  const why = failure.failureReason ? `: ${failure.failureReason}` : "";
  return new TargetFailure(
    "crashed_after_ready",
    failure.region,
    `instance ${failure.k8sName} in region ${failure.region} failed after it was ready${exit}${why}`,
    failure.exitCode === null ? {} : { exit_code: failure.exitCode },
  );
}

/** Fails with `placement_failed` for the first region of the batch that has no agent to run it. */
export async function checkPlacement(ctx: restate.WorkflowContext, db: Db, batch: readonly string[], label: string): Promise<void> {
  const missing = await ctx.run(`rollout placement ${label}`, async () => {
    for (const region of batch) if (!(await hasAgentInRegion(db, region))) return region;
    return null;
  });
  if (missing !== null) throw new TargetFailure("placement_failed", missing, `no agent serves region ${missing}`);
}

/**
 * Waits durably until the batch's instances are ready (the whole-deployment wait of readiness.ts,
 * narrowed to `batch`): the same verdicts and messages, a deadline fixed once from `ctx.date.now()`,
 * the cancel promise checked each round. A failed instance in a region that was ready before is a
 * `crashed_after_ready` of that region. `timeoutMs` 0 disables the gating.
 */
export async function waitForBatchReadiness(
  ctx: restate.WorkflowContext,
  db: Db,
  steps: StepRunner,
  options: {
    /** Called every round (re-reads the rollout's control state; throws to stop the wait). */
    checkControl?: (round: number) => Promise<void>;
    deploymentId: string;
    batch: readonly string[];
    readyRegions: readonly string[];
    timeoutMs: number;
    pollMs: number;
    label: string;
  },
): Promise<{ runningAddress: string | null; message: string }> {
  if (options.timeoutMs === 0) return { runningAddress: null, message: "readiness gating disabled (health_check_timeout 0)" };
  const deadline = (await ctx.date.now()) + options.timeoutMs;
  let shown = "";
  for (let round = 1; ; round++) {
    await steps.checkCancelled();
    await options.checkControl?.(round);
    const whole = await ctx.run(`readiness check ${options.label} ${round}`, () => loadDeploymentReadiness(db, options.deploymentId));
    const crash = crashAfterReady(whole, options.readyRegions);
    if (crash) throw crash;
    const snapshot = snapshotOf(whole, options.batch);
    const verdict = evaluateReadiness(snapshot);
    if (verdict.state === "ready") return { runningAddress: snapshot.runningAddress, message: verdict.message };
    if (verdict.state === "failed") {
      const failure = snapshot.failures[0];
      throw new TargetFailure(
        verdict.reason,
        failure?.region ?? options.batch[0] ?? "",
        verdict.message,
        failure?.exitCode == null ? {} : { exit_code: failure.exitCode },
      );
    }
    if (verdict.message !== shown) {
      shown = verdict.message;
      await steps.record("readiness", "running", `waiting for instances: ${verdict.message}`);
    }
    const now = await ctx.date.now();
    if (now >= deadline) {
      const waiting = snapshot.regions.find((r) => r.running < r.desiredReplicas)?.region ?? options.batch[0] ?? "";
      throw new TargetFailure(
        "readiness_timeout",
        waiting,
        `instances not running after ${options.timeoutMs} ms (${verdict.message})${pendingHint(snapshot)}`,
      );
    }
    await ctx.sleep(
      Math.max(1, Math.min(readinessPollInterval(round, options.pollMs), deadline - now)),
      `readiness wait ${options.label} ${round}`,
    );
  }
}
