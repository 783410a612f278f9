import { upsertDeploymentStep, type Db, type StepStatus } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";

/**
 * A deploy failure with a structured reason (`readiness_timeout`, `start_failed`, …). Thrown
 * outside `ctx.run` so the subclass survives replay (a TerminalError recorded by `ctx.run` comes
 * back as a plain TerminalError).
 */
export class DeployFailure extends restate.TerminalError {
  constructor(
    readonly reason: string,
    message: string,
    /** A finer step name than the workflow's (e.g. `build:compile`), recorded as `failed_step`. */
    readonly failedStep?: string,
  ) {
    super(`${reason}: ${message}`, { errorCode: 412 });
  }
}

/** Raised at a step boundary once `cancel` has been requested. */
export class DeployCancelled extends Error {
  constructor() {
    super("deployment cancelled");
  }
}

/** How a step ended when its body returned normally. */
export interface StepOutcome<T> {
  value: T;
  status?: Extract<StepStatus, "completed" | "skipped">;
  message?: string;
}

/**
 * Runs named deploy steps with a `deployment_steps` row each: `running` before the body,
 * `completed`/`skipped` after it, `failed` (with the error) when it throws a TerminalError. Rows
 * are keyed by (deployment, step), so a replayed or retried step updates its row, never adds one.
 * Before every step it checks the workflow's `cancel` promise (cancellation stops at a boundary).
 */
export class StepRunner {
  /** The step that is running (or last ran): what `failed_step` names on failure. */
  current: string | undefined;

  constructor(
    private readonly ctx: restate.WorkflowContext,
    private readonly db: Db,
    private readonly deploymentId: string,
  ) {}

  /** Throws {@link DeployCancelled} when a cancel was requested. */
  async checkCancelled(): Promise<void> {
    const requested = await this.ctx.promise<CancelRequest>(cancelPromiseName).peek();
    if (requested !== undefined) throw new DeployCancelled();
  }

  /** Writes the row of `step` (a named durable side effect). */
  async record(step: string, status: StepStatus, message: string, errorMessage?: string): Promise<void> {
    const now = await this.ctx.date.now();
    await this.ctx.run(`step ${step} ${status}`, () =>
      upsertDeploymentStep(this.db, { deploymentId: this.deploymentId, step, status, message, errorMessage: errorMessage ?? null, now }),
    );
  }

  /** Runs `body` as step `name`, recording its row. */
  async step<T>(name: string, message: string, body: () => Promise<StepOutcome<T>>): Promise<T> {
    await this.checkCancelled();
    this.current = name;
    await this.record(name, "running", message);
    let outcome: StepOutcome<T>;
    try {
      outcome = await body();
    } catch (err) {
      if (err instanceof DeployCancelled || err instanceof restate.CancelledError) {
        await this.record(name, "skipped", "cancelled");
      } else if (err instanceof restate.TerminalError) {
        await this.record(name, "failed", message, err.message);
      }
      throw err;
    }
    await this.record(name, outcome.status ?? "completed", outcome.message ?? message);
    return outcome.value;
  }
}

/** Name of the workflow promise `cancel` resolves. */
export const cancelPromiseName = "cancel";

/** Value of the cancel promise. */
export interface CancelRequest {
  requestedAt: number;
  reason?: string;
}
