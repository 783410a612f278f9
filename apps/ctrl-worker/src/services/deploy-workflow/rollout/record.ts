import { advanceRollout, findDeploymentRollout, type Db, type RolloutProgress } from "@ctrl/db";
import type { AnalysisResult, ControlState, FailureDetail, RolloutState, RolloutTarget } from "@ctrl/rollout";
import type * as restate from "@restatedev/restate-sdk";
import { DeployFailure } from "../../../steps.js";

/** Where a rollout is: batch `batchIndex` of `batchCount`, traffic step `stepIndex` inside it. */
export interface RolloutCheckpoint {
  batchIndex: number;
  batchCount: number;
  stepIndex: number;
  updatedAt: number;
}

/** What the workflow reads before every step: the row's state, the operators' control and the revision. */
export interface RolloutControl {
  state: RolloutState;
  control: ControlState;
  revision: number;
}

/**
 * Raised when the rollout row was finished by someone else (an emergency rollback): the workflow
 * stops at once and touches no route or split.
 */
export class RolloutEnded extends DeployFailure {
  constructor(readonly state: string) {
    super("rolled_back", `the rollout was ended (${state}) by an emergency rollback; routes left as the rollback set them`);
  }
}

/**
 * The workflow's copy of its `deployment_rollouts` row. Every change is written through {@link save}
 * (a named journal step), so the row always shows the last decision and a replay rebuilds the same
 * copy from the journal without writing twice.
 */
export class RolloutRecord {
  state: RolloutState = "starting";
  targets: RolloutTarget[];
  failures: FailureDetail[] = [];
  checkpoint: RolloutCheckpoint;
  lastAnalysis: AnalysisResult | null = null;
  private writes = 0;
  private reads = 0;

  constructor(
    private readonly ctx: restate.WorkflowContext,
    private readonly db: Db,
    readonly deploymentId: string,
    readonly batches: string[][],
    now: number,
  ) {
    this.targets = batches.flat().map((region) => ({ region, state: "pending", weight: 0, startedAt: null, cutOverAt: null }));
    this.checkpoint = { batchIndex: 0, batchCount: batches.length, stepIndex: 0, updatedAt: now };
  }

  /** The target of a region. */
  target(region: string): RolloutTarget {
    const target = this.targets.find((t) => t.region === region);
    if (!target) throw new Error(`region ${region} is not a target of rollout ${this.deploymentId}`);
    return target;
  }

  /** Regions whose new instances were ready (they crash "after ready" from now on). */
  readyRegions(): string[] {
    return this.targets.filter((t) => t.state === "ready" || t.state === "cutting_over" || t.state === "cut_over").map((t) => t.region);
  }

  /** Regions fully on the new deployment. */
  cutOverRegions(): string[] {
    return this.targets.filter((t) => t.state === "cut_over").map((t) => t.region);
  }

  /**
   * Writes the copy to the row as journal step `rollout <what>`. Throws {@link RolloutEnded} when the
   * row was finished meanwhile (the write is refused then).
   */
  async save(what: string, finished = false): Promise<void> {
    const now = await this.ctx.date.now();
    this.checkpoint = { ...this.checkpoint, updatedAt: now };
    const progress: RolloutProgress = { ...this.progress(), ...(finished ? { finished_at: now } : {}) };
    this.writes++;
    const written = await this.ctx.run(`rollout ${what} #${this.writes}`, () => advanceRollout(this.db, this.deploymentId, progress, now));
    if (!written) throw new RolloutEnded("finished");
  }

  /**
   * {@link save}, then the row's revision in the same journal step: an operator's resume of a blocked
   * rollout is recognised by the revision moving past it (ctrl-api's compare-and-set always moves it).
   */
  async saveAndReadRevision(what: string): Promise<number> {
    const now = await this.ctx.date.now();
    this.checkpoint = { ...this.checkpoint, updatedAt: now };
    const progress = this.progress();
    this.writes++;
    const revision = await this.ctx.run(`rollout ${what} #${this.writes}`, async () => {
      if (!(await advanceRollout(this.db, this.deploymentId, progress, now))) return null;
      return Number((await findDeploymentRollout(this.db, this.deploymentId))?.revision ?? 0);
    });
    if (revision === null) throw new RolloutEnded("finished");
    return revision;
  }

  private progress(): RolloutProgress {
    return {
      state: this.state,
      targets: JSON.stringify(this.targets),
      checkpoint: JSON.stringify(this.checkpoint),
      failure_details: JSON.stringify(this.failures),
      last_analysis: this.lastAnalysis ? JSON.stringify(this.lastAnalysis) : null,
    };
  }

  /** Reads the row's state and control state (journal step `rollout control <label>`). */
  async readControl(label: string): Promise<RolloutControl> {
    this.reads++;
    return this.ctx.run(`rollout control ${label} #${this.reads}`, async () => {
      const row = await findDeploymentRollout(this.db, this.deploymentId);
      if (!row) return { state: "failed" as RolloutState, control: "active" as ControlState, revision: 0 };
      return { state: row.state as RolloutState, control: row.control_state as ControlState, revision: Number(row.revision) };
    });
  }
}
