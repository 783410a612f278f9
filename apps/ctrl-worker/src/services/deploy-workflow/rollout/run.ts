// Long because the rollout is one state machine (RolloutRun) whose steps share the journaled plan and record;
// the pieces without that state live beside it (batch.ts, analysis.ts, record.ts, settle.ts).
import {
  clearRegionSplits,
  createDeploymentRollout,
  findDeploymentById,
  findServingDeployment,
  listDeploymentTopology,
  listSplitsOfCanary,
  loadDeploymentReadiness,
  setDeploymentStatus,
  setRolloutSplit,
  type Db,
} from "@ctrl/db";
import {
  countersDelta,
  cutoverWeights,
  evaluateAnalysis,
  isTerminalRollout,
  planBatches,
  policyFromJson,
  policyToJson,
  type FailureDetail,
  type FailureKind,
  type RolloutPolicy,
} from "@ctrl/rollout";
import type * as restate from "@restatedev/restate-sdk";
import type { WorkerDeps } from "../../../deps.js";
import type { WorkerSettings } from "../../../settings.js";
import { DeployCancelled, type StepRunner } from "../../../steps.js";
import type { DeployResult } from "../api.js";
import type { DeployMeta } from "../metadata.js";
import { ensureSentinels } from "../sentinels.js";
import { commitTopology } from "../topology.js";
import { decodeCounters, scrapeBatchTraffic } from "./analysis.js";
import { TargetFailure, checkPlacement, crashAfterReady, waitForBatchReadiness } from "./batch.js";
import { RolloutEnded, RolloutRecord } from "./record.js";
import { clearOwnSplits, scaleDownLater } from "./settle.js";

/** What the deploy workflow continues with: the instances are ready (OpenAPI, domains, the switch), or the run ended here. */
export type RolloutOutcome =
  | { ended: false; runningAddress: string | null; message: string; finish: () => Promise<void> }
  | { ended: true; result: DeployResult };

type Go = "go" | "cancel";

/**
 * An operator's cancel noticed inside a step (the readiness wait): the step row records it as
 * skipped (a {@link DeployCancelled}), and the rollout stops where it is rather than the whole deploy.
 */
class CancelRequested extends DeployCancelled {}

/**
 * The rollout of a deployment across its regions (issue 13), replacing the deploy's single
 * topology → sentinel → readiness sequence. Policy = the deployment's snapshot. With a previous
 * deployment and a `rolling`/`canary` policy the regions go in batches, each started, made ready
 * and cut over through the region traffic splits (`canary_steps`, then 100 %), watched by the
 * analysis; otherwise (no previous deployment, or `blue_green`) every region starts at once and
 * the deploy's one global switch follows, as before policies existed — with the rollout row kept up
 * to date either way. Every decision is a named journal step; the row is re-read before each one.
 */
export async function runRollout(
  ctx: restate.WorkflowContext,
  deps: WorkerDeps,
  settings: WorkerSettings,
  steps: StepRunner,
  meta: DeployMeta,
  regions: string[],
): Promise<RolloutOutcome> {
  const db = deps.db;
  const plan = await ctx.run("rollout plan", async () => {
    const deployment = await findDeploymentById(db, meta.deploymentId);
    const serving = await findServingDeployment(db, meta.environmentId);
    return { policyJson: deployment?.rollout_policy ?? null, previous: serving === meta.deploymentId ? null : serving };
  });
  const policy = policyFromJson(plan.policyJson);
  const batched = plan.previous !== null && policy.strategy !== "blue_green";
  const batches = batched ? planBatches(policy, regions) : [regions];
  const record = new RolloutRecord(ctx, db, meta.deploymentId, batches, await ctx.date.now());
  const created = await ctx.date.now();
  await ctx.run("rollout create", async () => {
    await createDeploymentRollout(db, {
      deployment_id: meta.deploymentId,
      workspace_id: meta.workspaceId,
      project_id: meta.projectId,
      environment_id: meta.environmentId,
      previous_deployment_id: plan.previous,
      strategy: policy.strategy,
      state: "starting",
      control_state: "active",
      batches: JSON.stringify(batches),
      targets: JSON.stringify(record.targets),
      checkpoint: JSON.stringify(record.checkpoint),
      failure_details: "[]",
      last_analysis: null,
      created_at: created,
      updated_at: created,
      finished_at: null,
    });
  });
  const run = new RolloutRun(ctx, db, settings, steps, meta, policy, plan.policyJson !== null, plan.previous, batched, record);
  ctx.console.info(
    { deploymentId: meta.deploymentId, strategy: policy.strategy, batches, previous: plan.previous, policy: policyToJson(policy) },
    "rollout planned",
  );
  return run.execute();
}

/** One rollout's execution; its fields are fixed by the journaled plan, so a replay walks the same path. */
class RolloutRun {
  private runningAddress: string | null = null;
  private readyMessage = "";
  private holds = 0;

  constructor(
    private readonly ctx: restate.WorkflowContext,
    private readonly db: Db,
    private readonly settings: WorkerSettings,
    private readonly steps: StepRunner,
    private readonly meta: DeployMeta,
    private readonly policy: RolloutPolicy,
    /** False for deployments without a policy snapshot: readiness keeps the worker's timeout. */
    private readonly explicitPolicy: boolean,
    private readonly previous: string | null,
    private readonly batched: boolean,
    private readonly record: RolloutRecord,
  ) {}

  async execute(): Promise<RolloutOutcome> {
    const { batches } = this.record;
    for (let index = 0; index < batches.length; ) {
      const batch = batches[index] as string[];
      this.record.checkpoint = { ...this.record.checkpoint, batchIndex: index, stepIndex: 0 };
      try {
        if ((await this.gate(`batch ${index + 1}`)) === "cancel") return this.cancel(batch);
        await this.startBatch(index, batch);
        if (this.batched) {
          const label = this.label(index);
          const cut = await this.steps.step("rollout", `batch ${label}: cutting over ${batch.join(", ")}`, async () => {
            const go = await this.cutOver(index, batch);
            return { value: go, message: go === "go" ? `batch ${label}: ${batch.join(", ")} cut over` : `batch ${label}: cancelled` };
          });
          if (cut === "cancel") return this.cancel(batch);
        }
        index++;
        if (index < batches.length && this.policy.delayBetweenBatchesMs > 0) {
          await this.ctx.sleep(this.policy.delayBetweenBatchesMs, `rollout delay after batch ${index}`);
        }
      } catch (err) {
        if (err instanceof CancelRequested) return this.cancel(batch);
        if (!(err instanceof TargetFailure)) throw err;
        if ((await this.onFailure(err, batch)) === "cancel") return this.cancel(batch);
      }
    }
    if ((await this.gate("switch")) === "cancel") return this.cancel([]);
    if (!this.batched) {
      this.record.state = "rolling";
      await this.record.save("switching");
    }
    return { ended: false, runningAddress: this.runningAddress, message: this.readyMessage, finish: () => this.finish() };
  }

  private label(index: number): string {
    return `${index + 1}/${this.record.batches.length}`;
  }

  /**
   * Re-reads the row before a step: a rollout finished by someone else (emergency rollback) stops the
   * run; `paused` waits in a durable loop of sleeps and reads; `cancel_requested` stops it where it is.
   */
  private async gate(label: string): Promise<Go> {
    for (let round = 1; ; round++) {
      const row = await this.record.readControl(label);
      if (isTerminalRollout(row.state)) throw new RolloutEnded(row.state);
      if (row.control === "cancel_requested") return "cancel";
      if (row.control === "active") return "go";
      await this.ctx.sleep(this.settings.rolloutControlPollMs, `rollout paused ${label} ${round}`);
    }
  }

  /** Re-reads the row without waiting: finished elsewhere → {@link RolloutEnded}; cancel requested → {@link CancelRequested}. */
  private async peek(label: string): Promise<void> {
    const row = await this.record.readControl(label);
    if (isTerminalRollout(row.state)) throw new RolloutEnded(row.state);
    if (row.control === "cancel_requested") throw new CancelRequested();
  }

  /** Places, commits, ensures the sentinels of and waits for the instances of one batch. */
  private async startBatch(index: number, batch: string[]): Promise<void> {
    const label = this.label(index);
    const { ctx, db, meta } = this;
    if (this.batched) await checkPlacement(ctx, db, batch, label);
    const now = await ctx.date.now();
    for (const region of batch) Object.assign(this.record.target(region), { state: "starting", weight: 0, startedAt: now });
    await this.record.save(`batch ${label} starting`);
    const where = this.batched ? `batch ${label}: ` : "";
    await this.steps.step("topology", `${where}committing desired state in ${batch.join(", ")}`, async () => {
      const results = await commitTopology(ctx, batch, {
        workspaceId: meta.workspaceId,
        deploymentId: meta.deploymentId,
        desiredReplicas: meta.replicas,
        desiredStatus: "running",
      });
      const versions = batch.map((r, i) => `${r}@${results[i]?.version}`).join(", ");
      return { value: undefined, message: `${where}${meta.replicas} replica(s) desired in ${versions}` };
    });
    await this.steps.step("sentinel", `${where}ensuring the environment's sentinel`, () =>
      ensureSentinels(
        ctx,
        db,
        this.settings,
        {
          workspaceId: meta.workspaceId,
          projectId: meta.projectId,
          environmentId: meta.environmentId,
          environmentSlug: meta.environmentSlug,
        },
        batch,
      ),
    );
    const timeoutMs = this.explicitPolicy ? this.policy.healthCheckTimeoutMs : this.settings.readinessTimeoutMs;
    const ready = await this.steps.step("readiness", `${where}waiting up to ${timeoutMs} ms for instances`, async () => {
      const r = await waitForBatchReadiness(ctx, db, this.steps, {
        deploymentId: meta.deploymentId,
        batch,
        readyRegions: this.record.readyRegions(),
        timeoutMs,
        pollMs: this.settings.readinessPollMs,
        label,
        // Region by region, a cancel or an emergency rollback is noticed while a batch starts; a pause
        // lets the batch become ready and holds it before its cutover.
        checkControl: this.batched ? (round) => this.peek(`readiness ${label} ${round}`) : undefined,
      });
      return { value: r, message: `${where}${r.message}` };
    });
    this.runningAddress = ready.runningAddress ?? this.runningAddress;
    this.readyMessage = ready.message;
    for (const region of batch) this.record.target(region).state = "ready";
    await this.record.save(`batch ${label} ready`);
  }

  /** Moves the batch's regions through the canary weights to 100 %, holding and analysing at each. */
  private async cutOver(index: number, batch: string[]): Promise<Go> {
    const label = this.label(index);
    const weights = cutoverWeights(this.policy);
    for (let stepIndex = 0; stepIndex < weights.length; stepIndex++) {
      const { weight, pauseMs } = weights[stepIndex] as { weight: number; pauseMs: number };
      this.record.checkpoint = { ...this.record.checkpoint, stepIndex };
      if ((await this.gate(`batch ${label} ${weight}%`)) === "cancel") return "cancel";
      const now = await this.ctx.date.now();
      for (const region of batch) {
        const moved = await this.ctx.run(`rollout split ${region} ${weight}%`, () =>
          setRolloutSplit(
            this.db,
            this.meta.deploymentId,
            {
              environment_id: this.meta.environmentId,
              region,
              workspace_id: this.meta.workspaceId,
              stable_deployment_id: this.previous as string,
              canary_weight: weight,
            },
            now,
          ),
        );
        if (!moved) throw new RolloutEnded("rolled_back");
        const target = this.record.target(region);
        target.weight = weight;
        target.state = weight === 100 ? "cut_over" : "cutting_over";
        if (weight === 100) target.cutOverAt = now;
      }
      this.record.state = "rolling";
      await this.record.save(`batch ${label} at ${weight}%`);
      const holdMs = weight === 100 ? (this.policy.analysis?.windowMs ?? 0) : pauseMs;
      if (holdMs > 0 && (await this.hold(batch, holdMs, `${label} ${weight}%`)) === "cancel") return "cancel";
    }
    return "go";
  }

  /**
   * Holds a traffic step for `holdMs`: every analysis interval (or control poll without analysis) it
   * checks the new instances for crashes, runs the analysis over the traffic since the hold began,
   * and re-reads the control state.
   */
  private async hold(batch: string[], holdMs: number, label: string): Promise<Go> {
    const { ctx, db, meta } = this;
    const analysis = this.policy.analysis;
    const sliceMs = analysis ? analysis.intervalMs : this.settings.rolloutControlPollMs;
    const id = ++this.holds;
    const end = (await ctx.date.now()) + holdMs;
    const baseline = analysis
      ? await ctx.run(`analysis baseline ${label} #${id}`, () => scrapeBatchTraffic(db, meta.environmentId, batch, meta.deploymentId))
      : undefined;
    for (let round = 1; ; round++) {
      const now = await ctx.date.now();
      if (now >= end) return "go";
      await ctx.sleep(Math.max(1, Math.min(sliceMs, end - now)), `rollout hold ${label} #${id} ${round}`);
      const health = await ctx.run(`rollout health ${label} #${id} ${round}`, () => loadDeploymentReadiness(db, meta.deploymentId));
      const crash = crashAfterReady(health, this.record.readyRegions());
      if (crash) throw crash;
      if (analysis && baseline) {
        const current = await ctx.run(`analysis ${label} #${id} ${round}`, () =>
          scrapeBatchTraffic(db, meta.environmentId, batch, meta.deploymentId),
        );
        for (const region of batch) {
          const before = baseline[region];
          const after = current[region];
          if (!before || !after) continue;
          const result = evaluateAnalysis(analysis, countersDelta(decodeCounters(before), decodeCounters(after)));
          this.record.lastAnalysis = result;
          if (result.verdict === "fail") {
            throw new TargetFailure("analysis_failed", region, `analysis in region ${region}: ${result.breaches.join("; ")}`, {
              error_rate: result.errorRate,
              ...(result.p99LatencyMs === undefined ? {} : { p99_latency_ms: result.p99LatencyMs }),
              requests: result.requests,
              max_error_rate: analysis.maxErrorRate,
              max_p99_latency_ms: analysis.maxP99LatencyMs,
            });
          }
        }
        await this.record.save(`analysis ${label} #${id} ${round}`);
      }
      if ((await this.gate(`hold ${label} #${id} ${round}`)) === "cancel") return "cancel";
    }
  }

  /**
   * A failed target: `rollback` puts every region back on the previous deployment (splits removed)
   * and ends the deploy failed with the reason (run.ts stops the new topology); `pause` parks the
   * rollout `blocked` until an operator resumes (the batch is retried) or cancels.
   */
  private async onFailure(failure: TargetFailure, batch: string[]): Promise<Go> {
    const detail: FailureDetail = {
      target: failure.region,
      kind: failure.reason as FailureKind,
      message: failure.detail,
      observed: failure.observed,
    };
    this.record.failures.push(detail);
    if (this.record.targets.some((t) => t.region === failure.region)) this.record.target(failure.region).state = "failed";
    this.ctx.console.warn({ deploymentId: this.meta.deploymentId, ...detail }, "rollout target failed");
    if (this.policy.failureAction === "rollback") {
      await this.ctx.run("rollout clear splits", () => clearOwnSplits(this.db, this.meta.environmentId, this.meta.deploymentId));
      for (const target of this.record.targets) {
        if (target.state === "cut_over" || target.state === "cutting_over") Object.assign(target, { state: "rolled_back", weight: 0 });
      }
      this.record.state = this.previous ? "rolled_back" : "failed";
      await this.record.save("rolled back", true);
      throw failure;
    }
    this.record.state = "blocked";
    const blockedAt = await this.record.saveAndReadRevision("blocked");
    for (let round = 1; ; round++) {
      await this.ctx.sleep(this.settings.rolloutControlPollMs, `rollout blocked ${round}`);
      const row = await this.record.readControl(`blocked ${round}`);
      if (isTerminalRollout(row.state)) throw new RolloutEnded(row.state);
      if (row.control === "cancel_requested") return "cancel";
      if (row.control === "active" && row.revision > blockedAt) break;
    }
    for (const region of batch) Object.assign(this.record.target(region), { state: "pending", weight: 0 });
    this.record.state = this.record.cutOverRegions().length > 0 ? "rolling" : "starting";
    await this.record.save("resumed");
    await this.restartFailedRegions(batch);
    return "go";
  }

  /**
   * Before a resumed batch is retried, its regions with failed instances are stopped and their
   * instances waited out (bounded by the readiness timeout), so the retry starts fresh ones. A real
   * agent keeps an instance that gave up failed for as long as its spec is unchanged, and that row
   * would fail the retried batch at once, before its agent even saw the new commit.
   */
  private async restartFailedRegions(batch: string[]): Promise<void> {
    const { ctx, db, meta } = this;
    const id = this.record.failures.length;
    const failed = await ctx.run(`rollout failed regions #${id}`, async () => {
      const readiness = await loadDeploymentReadiness(db, meta.deploymentId);
      return batch.filter((region) => readiness.failures.some((f) => f.region === region));
    });
    if (failed.length === 0) return;
    await commitTopology(ctx, failed, {
      workspaceId: meta.workspaceId,
      deploymentId: meta.deploymentId,
      desiredReplicas: meta.replicas,
      desiredStatus: "stopped",
    });
    const deadline = (await ctx.date.now()) + this.settings.readinessTimeoutMs;
    for (let round = 1; ; round++) {
      const left = await ctx.run(`rollout instances left #${id} ${round}`, async () => {
        const readiness = await loadDeploymentReadiness(db, meta.deploymentId);
        return readiness.regions.filter((r) => failed.includes(r.region)).reduce((n, r) => n + r.running + r.pending + r.failed, 0);
      });
      if (left === 0 || (await ctx.date.now()) >= deadline) return;
      await ctx.sleep(this.settings.readinessPollMs, `rollout stopping failed regions #${id} ${round}`);
    }
  }

  /**
   * Cancel requested by an operator: stop where it is. Regions fully cut over keep the new deployment
   * (until an explicit rollback or promote): `degraded`; with none, `failed`. Everything else goes
   * back to the previous deployment and the new instances there are stopped.
   */
  private async cancel(batch: string[]): Promise<RolloutOutcome> {
    const { ctx, db, meta } = this;
    const kept = this.record.cutOverRegions();
    const dropped = this.record.targets.filter((t) => t.state !== "cut_over" && t.state !== "pending").map((t) => t.region);
    await ctx.run("rollout cancel splits", async () => {
      const partial = (await listSplitsOfCanary(db, meta.deploymentId)).filter((s) => !kept.includes(s.region)).map((s) => s.region);
      await clearRegionSplits(db, meta.environmentId, partial);
    });
    for (const target of this.record.targets) {
      if (target.state === "cutting_over") Object.assign(target, { state: "rolled_back", weight: 0 });
      else if (target.state !== "cut_over" && target.state !== "pending") target.state = "failed";
    }
    const message = kept.length
      ? `rollout cancelled; ${kept.join(", ")} stay on this deployment until a rollback or promote`
      : "rollout cancelled before any region was cut over";
    this.record.failures.push({ target: batch.join(",") || "*", kind: "cancelled", message, observed: {} });
    this.record.state = kept.length ? "degraded" : "failed";
    await this.record.save("cancelled", true);
    const stop = kept.length
      ? dropped
      : await ctx.run("rollout regions to stop", async () => (await listDeploymentTopology(db, meta.deploymentId)).map((t) => t.region));
    await commitTopology(ctx, stop, {
      workspaceId: meta.workspaceId,
      deploymentId: meta.deploymentId,
      desiredReplicas: meta.replicas,
      desiredStatus: "stopped",
    });
    const now = await ctx.date.now();
    await ctx.run("status cancelled", () =>
      setDeploymentStatus(
        db,
        meta.deploymentId,
        { status: "cancelled", errorMessage: message, failedStep: this.steps.current ?? null },
        now,
      ),
    );
    ctx.console.info({ deploymentId: meta.deploymentId, kept }, "rollout cancelled");
    return { ended: true, result: { deploymentId: meta.deploymentId, status: "cancelled", errorMessage: message } };
  }

  /**
   * After the deploy's global switch (routes → this deployment): the splits go, every target is cut
   * over and the rollout is `stable`. With `previousScaleDownDelayMs` set, the previous deployment's
   * instances are stopped that long after (a delayed, durable send per region) unless it still
   * serves the environment (a rolled-back pin held the hostnames).
   */
  private async finish(): Promise<void> {
    const { ctx, db, meta } = this;
    const now = await ctx.date.now();
    await ctx.run("rollout clear splits", () => clearOwnSplits(db, meta.environmentId, meta.deploymentId));
    for (const target of this.record.targets) Object.assign(target, { state: "cut_over", weight: 100, cutOverAt: target.cutOverAt ?? now });
    this.record.state = "stable";
    try {
      await this.record.save("stable", true);
    } catch (err) {
      // An emergency rollback right after the switch already moved the routes back; nothing to undo here.
      if (!(err instanceof RolloutEnded)) throw err;
      return;
    }
    const delay = this.settings.previousScaleDownDelayMs;
    if (!this.previous || delay === null) return;
    // Under a rolled-back pin the switch leaves the environment's hostnames on the previous
    // deployment: it still serves everything, so it keeps running.
    const previous = this.previous;
    const stillServing = await ctx.run(
      "rollout previous still serving",
      async () => (await findServingDeployment(db, meta.environmentId)) === previous,
    );
    if (!stillServing) await scaleDownLater(ctx, db, previous, delay);
  }
}

export { settleRollout } from "./settle.js";
