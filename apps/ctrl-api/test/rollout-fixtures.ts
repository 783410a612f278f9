/**
 * Rows that put a deployment's rollout in a chosen state without running a deploy: what the control
 * surfaces' tests (ctrl-api's and the CLI's) start from. The workflow's own tests run real rollouts.
 */
import { newId, writeRolloutProgress, type Db, type RolloutProgress } from "@ctrl/db";
import type { ControlState, FailureDetail, RolloutState, RolloutTarget } from "@ctrl/rollout";

/** Inserts a ready image deployment of `environmentId` with `rolloutPolicy` (JSON) as its snapshot. */
export async function insertDeployment(
  db: Db,
  owner: { workspaceId: string; projectId: string; environmentId: string },
  rolloutPolicy: string | null = null,
): Promise<string> {
  const id = newId("d");
  const now = Date.now();
  await db
    .insertInto("deployments")
    .values({
      id,
      workspace_id: owner.workspaceId,
      project_id: owner.projectId,
      environment_id: owner.environmentId,
      source_type: "image",
      build_context_path: null,
      dockerfile_path: null,
      image: "ghcr.io/acme/api:2.0.0",
      build_id: null,
      git_commit_sha: "abc1234",
      git_branch: "main",
      git_commit_message: null,
      git_commit_author_handle: null,
      git_commit_author_avatar_url: null,
      git_commit_timestamp: null,
      command: null,
      status: "deploying",
      error_message: null,
      failed_step: null,
      openapi_spec: null,
      cpu_millicores: 250,
      memory_mib: 256,
      replicas: 1,
      port: 8080,
      health_check_path: "/health",
      rollout_policy: rolloutPolicy,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** What a test sets on a rollout row (everything else has a plausible default). */
export interface RolloutFixture {
  state: RolloutState;
  control?: ControlState;
  strategy?: string;
  targets?: RolloutTarget[];
  failures?: FailureDetail[];
  checkpoint?: { batchIndex: number; batchCount: number; stepIndex: number; updatedAt: number };
  lastAnalysis?: Record<string, unknown> | null;
  previousDeploymentId?: string | null;
}

/** Three regions, the first cut over, the second at 10 %, the third pending. */
export const threeRegions: RolloutTarget[] = [
  { region: "eu-west", state: "cut_over", weight: 100, startedAt: 1_000, cutOverAt: 2_000 },
  { region: "us-east", state: "cutting_over", weight: 10, startedAt: 3_000, cutOverAt: null },
  { region: "ap-south", state: "pending", weight: 0, startedAt: null, cutOverAt: null },
];

/** Inserts (or replaces) the `deployment_rollouts` row of a deployment inserted by {@link insertDeployment}. */
export async function putRollout(
  db: Db,
  deploymentId: string,
  owner: { workspaceId: string; projectId: string; environmentId: string },
  fixture: RolloutFixture,
): Promise<void> {
  const now = Date.now();
  const targets = fixture.targets ?? threeRegions;
  await db.deleteFrom("deployment_rollouts").where("deployment_id", "=", deploymentId).execute();
  await db
    .insertInto("deployment_rollouts")
    .values({
      deployment_id: deploymentId,
      workspace_id: owner.workspaceId,
      project_id: owner.projectId,
      environment_id: owner.environmentId,
      previous_deployment_id: fixture.previousDeploymentId ?? null,
      strategy: fixture.strategy ?? "canary",
      state: fixture.state,
      control_state: fixture.control ?? "active",
      batches: JSON.stringify(targets.map((t) => [t.region])),
      targets: JSON.stringify(targets),
      checkpoint: JSON.stringify(fixture.checkpoint ?? { batchIndex: 1, batchCount: targets.length, stepIndex: 0, updatedAt: 3_000 }),
      failure_details: JSON.stringify(fixture.failures ?? []),
      last_analysis: fixture.lastAnalysis ? JSON.stringify(fixture.lastAnalysis) : null,
      revision: 1,
      created_at: now,
      updated_at: now,
      finished_at: null,
    })
    .execute();
}

/** Writes progress as the workflow would (state, targets, …; never the control state). */
export async function moveRollout(db: Db, deploymentId: string, progress: RolloutProgress): Promise<void> {
  await writeRolloutProgress(db, deploymentId, progress, Date.now());
}
