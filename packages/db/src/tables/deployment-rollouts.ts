import type { Insertable, Selectable, Updateable } from "kysely";

/**
 * The rollout of one deployment (issue 13): its state, the operators' control state and its progress.
 * The single durable home of `control_state`: ctrl-api writes it, the workflow re-reads it every step.
 * JSON columns hold `@ctrl/rollout` types (`RolloutTarget[]`, `FailureDetail[]`, the checkpoint).
 */
export interface DeploymentRolloutsTable {
  deployment_id: string;
  workspace_id: string;
  project_id: string;
  environment_id: string;
  previous_deployment_id: string | null;
  strategy: string;
  /** `@ctrl/rollout` RolloutState. */
  state: string;
  /** `@ctrl/rollout` ControlState. */
  control_state: string;
  batches: string;
  targets: string;
  checkpoint: string;
  failure_details: string;
  last_analysis: string | null;
  revision: number;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}
export type DeploymentRolloutRow = Selectable<DeploymentRolloutsTable>;
export type NewDeploymentRollout = Insertable<DeploymentRolloutsTable>;
export type DeploymentRolloutUpdate = Updateable<DeploymentRolloutsTable>;

/**
 * A region's traffic split during a rollout: of the environment's shared hostnames (sticky routes
 * pointing at `stable_deployment_id`), `canary_weight` % of new clients go to `canary_deployment_id`
 * in `region`. 100 = the region is cut over. No row = the stable deployment only.
 */
export interface RegionTrafficSplitsTable {
  environment_id: string;
  region: string;
  workspace_id: string;
  stable_deployment_id: string;
  canary_deployment_id: string;
  canary_weight: number;
  created_at: number;
  updated_at: number;
}
export type RegionTrafficSplit = Selectable<RegionTrafficSplitsTable>;
