import type { Insertable, Selectable } from "kysely";

export type DesiredStatus = "running" | "stopped";

/** Desired state of a deployment in one region; `version` orders it in the region's sync stream. */
export interface DeploymentTopologyTable {
  id: string;
  workspace_id: string;
  deployment_id: string;
  region: string;
  desired_replicas: number;
  desired_status: DesiredStatus;
  version: number;
  created_at: number;
  updated_at: number;
}
export type DeploymentTopology = Selectable<DeploymentTopologyTable>;
export type NewDeploymentTopology = Insertable<DeploymentTopologyTable>;
