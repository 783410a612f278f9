import { loadDeploymentReadiness, type Db, type DeploymentReadiness } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import type { WorkerSettings } from "../../settings.js";
import { DeployFailure, type StepRunner } from "../../steps.js";
import type { DeployRun } from "./deploy-run.js";

/** What one readiness check concluded. */
export type ReadinessVerdict =
  | { state: "ready"; message: string }
  | { state: "waiting"; message: string }
  | { state: "failed"; reason: "start_failed" | "image_pull_failed"; message: string };

const imagePull = /image.?pull|pull.?image|errimagepull|imagepullbackoff|manifest unknown|pull access denied/i;

/**
 * Pure verdict over one snapshot: failed as soon as any instance reports `failed` (image pull
 * problems recognised from the agent's failure reason, otherwise `start_failed` with the exit
 * code), ready when every running-desired region has its replicas running, waiting otherwise.
 */
export function evaluateReadiness(snapshot: DeploymentReadiness): ReadinessVerdict {
  const failure = snapshot.failures[0];
  if (failure) {
    const pull = failure.failureReason !== null && imagePull.test(failure.failureReason);
    const exit = failure.exitCode === null ? "" : ` with exit code ${failure.exitCode}`;
    const why = failure.failureReason ? `: ${failure.failureReason}` : "";
    return {
      state: "failed",
      reason: pull ? "image_pull_failed" : "start_failed",
      message: `instance ${failure.k8sName} in region ${failure.region} failed${exit}${why}`,
    };
  }
  const wanted = snapshot.regions.filter((r) => r.desiredStatus === "running");
  if (wanted.length === 0) return { state: "waiting", message: "no topology committed yet" };
  const progress = wanted.map((r) => `${r.region} ${Math.min(r.running, r.desiredReplicas)}/${r.desiredReplicas}`).join(", ");
  if (wanted.every((r) => r.running >= r.desiredReplicas)) return { state: "ready", message: `running: ${progress}` };
  return { state: "waiting", message: `running: ${progress}` };
}

/**
 * The end of a readiness_timeout message: what the first still-pending instance last reported (its
 * health probe: path, port, result) and the usual fix; "" when no instance reported a reason.
 */
export function pendingHint(snapshot: DeploymentReadiness): string {
  const first = snapshot.pendingReasons?.[0];
  if (!first) return "";
  return `; ${first.k8sName} in ${first.region}: ${first.reason}. Hint: the app must listen on $PORT (the agent sets it) and answer its health path with 200`;
}

/**
 * Sleep before readiness round `round + 1`: starts at 100 ms and grows by half each round up to
 * `maxMs`, so a fast agent is noticed quickly while a long wait keeps its journal short.
 */
export function readinessPollInterval(round: number, maxMs: number): number {
  return Math.min(maxMs, Math.round(100 * 1.5 ** (round - 1)));
}

/**
 * Waits durably until the deployment's instances are ready: short named checks with durable
 * sleeps in between, a deadline fixed once from `ctx.date.now()` (so a replay or a restarted
 * worker keeps the original deadline), and the cancel promise checked each round.
 * Returns the address of one running instance (for the OpenAPI scrape), if any.
 */
export async function waitForReadiness(
  ctx: restate.WorkflowContext,
  db: Db,
  steps: StepRunner,
  settings: WorkerSettings,
  deploymentId: string,
): Promise<{ runningAddress: string | null; message: string }> {
  const deadline = (await ctx.date.now()) + settings.readinessTimeoutMs;
  let shown = "";
  for (let round = 1; ; round++) {
    await steps.checkCancelled();
    const snapshot = await ctx.run(`readiness check ${round}`, () => loadDeploymentReadiness(db, deploymentId));
    const verdict = evaluateReadiness(snapshot);
    if (verdict.state === "ready") return { runningAddress: snapshot.runningAddress, message: verdict.message };
    if (verdict.state === "failed") throw new DeployFailure(verdict.reason, verdict.message);
    // Progress for GetDeployment/WatchDeployment and the CLI, written only when it changes.
    if (verdict.message !== shown) {
      shown = verdict.message;
      await steps.record("readiness", "running", `waiting for instances: ${verdict.message}`);
    }
    const now = await ctx.date.now();
    if (now >= deadline) {
      throw new DeployFailure(
        "readiness_timeout",
        `instances not running after ${settings.readinessTimeoutMs} ms (${verdict.message})${pendingHint(snapshot)}`,
      );
    }
    await ctx.sleep(
      Math.max(1, Math.min(readinessPollInterval(round, settings.readinessPollMs), deadline - now)),
      `readiness wait ${round}`,
    );
  }
}

/** Step `readiness`: {@link waitForReadiness} within the settings' timeout. */
export function readinessStep(run: DeployRun): Promise<{ runningAddress: string | null; message: string }> {
  return run.steps.step("readiness", `waiting up to ${run.settings.readinessTimeoutMs} ms for instances`, async () => {
    const r = await waitForReadiness(run.ctx, run.db, run.steps, run.settings, run.deploymentId);
    return { value: r, message: r.message };
  });
}
