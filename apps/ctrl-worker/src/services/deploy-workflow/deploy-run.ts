import { setDeploymentStatus, type DeploymentStatusChange, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import type { WorkerSettings } from "../../settings.js";
import type { StepRunner } from "../../steps.js";

/** What every step of one `DeployWorkflow.run` shares: its context, database, settings and step rows. */
export interface DeployRun {
  ctx: restate.WorkflowContext;
  db: Db;
  settings: WorkerSettings;
  deploymentId: string;
  steps: StepRunner;
}

/** Sets the deployment's status as the durable step `status <status>`. */
export async function setDeployStatus(run: DeployRun, change: DeploymentStatusChange): Promise<void> {
  const now = await run.ctx.date.now();
  await run.ctx.run(`status ${change.status}`, () => setDeploymentStatus(run.db, run.deploymentId, change, now));
}
