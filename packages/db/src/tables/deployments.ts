import type { Insertable, Selectable, Updateable } from "kysely";

export const deploymentStatuses = ["pending", "building", "deploying", "ready", "failed", "cancelled"] as const;
export type DeploymentStatus = (typeof deploymentStatuses)[number];
/** Statuses a deployment never leaves. */
export const terminalDeploymentStatuses: readonly DeploymentStatus[] = ["ready", "failed", "cancelled"];

/** One deployment of a project to an environment, from a build context or an image. */
export interface DeploymentsTable {
  id: string;
  workspace_id: string;
  project_id: string;
  environment_id: string;
  source_type: "image" | "build_context";
  build_context_path: string | null;
  dockerfile_path: string | null;
  /** The runnable image or artifact reference; set at creation for image deploys, after the build otherwise. */
  image: string | null;
  build_id: string | null;
  git_commit_sha: string;
  git_branch: string;
  git_commit_message: string | null;
  git_commit_author_handle: string | null;
  git_commit_author_avatar_url: string | null;
  git_commit_timestamp: number | null;
  /** JSON array of strings, or null for the image's own command. */
  command: string | null;
  status: DeploymentStatus;
  error_message: string | null;
  failed_step: string | null;
  /** Structured failure reason (`readiness_timeout`, `start_failed`, …); migration 0002_deploy. */
  failure_reason: string | null;
  openapi_spec: string | null;
  cpu_millicores: number;
  memory_mib: number;
  replicas: number;
  port: number;
  health_check_path: string;
  /** The environment's rollout policy when the deployment was created (JSON), or null = default (0011). */
  rollout_policy: string | null;
  /** When the deployment's variables were snapshotted into `deployment_variables`, or null = created before 0014 (0014). */
  variables_snapshot_at: number | null;
  /** When the deployment was deleted (instances stopped, routes removed), or null (0014). */
  archived_at: number | null;
  created_at: number;
  updated_at: number;
}
export type Deployment = Selectable<DeploymentsTable>;
export type NewDeployment = Insertable<DeploymentsTable>;
export type DeploymentUpdate = Updateable<DeploymentsTable>;
