import {
  findDeploymentById,
  findHalt,
  insertHaltOnce,
  newId,
  updateHalt,
  upsertDeploymentStep,
  type Db,
  type Deployment,
  type DeploymentHalt,
  type DeploymentHaltsTable,
  type HaltReason,
} from "@ctrl/db";
import type { ClassifiedHalt } from "./classify.js";

/** Name of the deployment step that shows a halt and what the supervisor did (`GetDeployment.steps`). */
export const haltStep = "halt";

/** Numbers of a halt row as numbers (mysql2 returns bigints as strings). */
export function normaliseHalt(row: DeploymentHalt): DeploymentHalt {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    ...row,
    exit_code: n(row.exit_code),
    height: n(row.height),
    paged_at: n(row.paged_at),
    resolved_at: n(row.resolved_at),
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
  };
}

/**
 * Records a classified halt of `deploymentId` once. `inserted: false` means the halt was already
 * recorded (another report of it, or a retry): the caller acts only on an insert, which makes the
 * supervisor idempotent per deployment and reason. An exit code learned after a live intent is
 * added to the existing record. Undefined when the deployment does not exist.
 */
export async function recordHalt(
  db: Db,
  deploymentId: string,
  instance: string,
  halt: ClassifiedHalt,
  now: number,
): Promise<{ inserted: boolean; halt: DeploymentHalt } | undefined> {
  const deployment = await findDeploymentById(db, deploymentId);
  if (!deployment) return undefined;
  const inserted = await insertHaltOnce(db, {
    deployment_id: deploymentId,
    reason: halt.reason,
    workspace_id: deployment.workspace_id,
    project_id: deployment.project_id,
    environment_id: deployment.environment_id,
    instance: instance.slice(0, 255),
    exit_code: halt.exitCode,
    plan_name: halt.planName,
    height: halt.height,
    info: halt.info,
    action: halt.action,
    state: "acting",
    condition: null,
    replaced_by_deployment_id: null,
    message: null,
    paged_at: null,
    resolved_at: null,
    created_at: now,
    updated_at: now,
  });
  if (!inserted && halt.exitCode !== null) {
    await db
      .updateTable("deployment_halts")
      .set({ exit_code: halt.exitCode, updated_at: now })
      .where("deployment_id", "=", deploymentId)
      .where("reason", "=", halt.reason)
      .where("exit_code", "is", null)
      .execute();
  }
  const row = await findHalt(db, deploymentId, halt.reason);
  return row ? { inserted, halt: normaliseHalt(row) } : undefined;
}

/** Reads a halt (normalised); undefined when it is not recorded. */
export async function loadHalt(db: Db, deploymentId: string, reason: HaltReason): Promise<DeploymentHalt | undefined> {
  const row = await findHalt(db, deploymentId, reason);
  return row ? normaliseHalt(row) : undefined;
}

/** What a decision changes on the halt row and the `halt` step. */
export interface HaltDecision {
  state: DeploymentHaltsTable["state"];
  message: string;
  condition?: string | null;
  replacedBy?: string | null;
  /** Step status: failed while a person or a plan is needed, completed once the action succeeded. */
  step: "running" | "completed" | "failed";
}

/** Writes a decision to the halt row and the deployment's `halt` step; returns the updated row. */
export async function decide(db: Db, deploymentId: string, reason: HaltReason, d: HaltDecision, now: number): Promise<DeploymentHalt> {
  const label = d.condition ? `${d.condition}: ${d.message}` : d.message;
  await upsertDeploymentStep(db, {
    deploymentId,
    step: haltStep,
    status: d.step,
    message: `${reason}: ${label}`.slice(0, 1024),
    errorMessage: d.step === "failed" ? label.slice(0, 4096) : null,
    now,
  });
  // The halt row last: a reader that sees the new state also sees the step.
  await updateHalt(
    db,
    deploymentId,
    reason,
    {
      state: d.state,
      message: d.message.slice(0, 4096),
      ...(d.condition !== undefined ? { condition: d.condition } : {}),
      ...(d.replacedBy !== undefined ? { replaced_by_deployment_id: d.replacedBy } : {}),
    },
    now,
  );
  return (await loadHalt(db, deploymentId, reason))!;
}

/**
 * Inserts the replacement of a halted deployment: the same project, environment, git fields,
 * command and resources, with `image` instead of the halted one's, as a `pending` image deploy.
 */
export async function insertReplacement(db: Db, halted: Deployment, image: string, now: number): Promise<string> {
  const id = newId("d");
  await db
    .insertInto("deployments")
    .values({
      id,
      workspace_id: halted.workspace_id,
      project_id: halted.project_id,
      environment_id: halted.environment_id,
      source_type: "image",
      build_context_path: null,
      dockerfile_path: null,
      image,
      build_id: null,
      git_commit_sha: halted.git_commit_sha,
      git_branch: halted.git_branch,
      git_commit_message: halted.git_commit_message,
      git_commit_author_handle: halted.git_commit_author_handle,
      git_commit_author_avatar_url: halted.git_commit_author_avatar_url,
      git_commit_timestamp: halted.git_commit_timestamp,
      command: halted.command,
      status: "pending",
      error_message: null,
      failed_step: null,
      openapi_spec: null,
      cpu_millicores: halted.cpu_millicores,
      memory_mib: halted.memory_mib,
      replicas: halted.replicas,
      port: halted.port,
      health_check_path: halted.health_check_path,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/**
 * The deployment that ran before `halted` in its environment: the newest `ready` one created
 * before it, preferring one with another image (the halted image is the problem).
 */
export async function previousReadyDeployment(db: Db, halted: Deployment): Promise<string | undefined> {
  const rows = await db
    .selectFrom("deployments")
    .select(["id", "image"])
    .where("project_id", "=", halted.project_id)
    .where("environment_id", "=", halted.environment_id)
    .where("status", "=", "ready")
    .where("id", "!=", halted.id)
    .where("created_at", "<=", halted.created_at)
    .orderBy("created_at", "desc")
    .limit(20)
    .execute();
  return (rows.find((r) => r.image !== halted.image) ?? rows[0])?.id;
}
