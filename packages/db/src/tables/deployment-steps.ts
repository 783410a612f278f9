import type { Generated, Insertable, Selectable } from "kysely";

export type StepStatus = "running" | "completed" | "failed" | "skipped";

/** The progress log of a deployment: one row per named workflow step. */
export interface DeploymentStepsTable {
  id: Generated<number>;
  deployment_id: string;
  step: string;
  status: StepStatus;
  message: string;
  error_message: string | null;
  started_at: number;
  ended_at: number | null;
  updated_at: number;
}
export type DeploymentStep = Selectable<DeploymentStepsTable>;
export type NewDeploymentStep = Insertable<DeploymentStepsTable>;
