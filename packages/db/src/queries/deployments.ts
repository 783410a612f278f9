import type { Transaction } from "kysely";
import type { Db } from "../pool.js";
import type { Database } from "../schema.js";
import type { Deployment, DeploymentStatus, NewDeployment } from "../tables/deployments.js";
import type { Environment } from "../tables/environments.js";
import type { Project } from "../tables/projects.js";
import type { Workspace } from "../tables/workspaces.js";

/** A deployment with the rows a deploy needs around it (names for domains, regions, the pin). */
export interface DeploymentContext {
  deployment: Deployment;
  project: Project;
  environment: Environment;
  workspace: Workspace;
}

/** The deployment row, or undefined. */
export async function findDeploymentById(db: Db, deploymentId: string): Promise<Deployment | undefined> {
  return db.selectFrom("deployments").selectAll().where("id", "=", deploymentId).executeTakeFirst();
}

/** The deployment with its project, environment and workspace, or undefined if any is missing. */
export async function loadDeploymentContext(db: Db, deploymentId: string): Promise<DeploymentContext | undefined> {
  const deployment = await findDeploymentById(db, deploymentId);
  if (!deployment) return undefined;
  const [project, environment, workspace] = await Promise.all([
    db.selectFrom("projects").selectAll().where("id", "=", deployment.project_id).executeTakeFirst(),
    db.selectFrom("environments").selectAll().where("id", "=", deployment.environment_id).executeTakeFirst(),
    db.selectFrom("workspaces").selectAll().where("id", "=", deployment.workspace_id).executeTakeFirst(),
  ]);
  if (!project || !environment || !workspace) return undefined;
  return { deployment, project, environment, workspace };
}

/** Fields a status change may set alongside the status. */
export interface DeploymentStatusChange {
  status: DeploymentStatus;
  errorMessage?: string | null;
  failedStep?: string | null;
  failureReason?: string | null;
  image?: string | null;
  buildId?: string | null;
}

/**
 * Moves a deployment to `change.status` unless it already reached a terminal status
 * (`ready`, `failed`, `cancelled`): a late or replayed write never resurrects a finished deploy.
 * Returns whether the row changed.
 */
export async function setDeploymentStatus(db: Db, deploymentId: string, change: DeploymentStatusChange, now: number): Promise<boolean> {
  const result = await db
    .updateTable("deployments")
    .set({
      status: change.status,
      updated_at: now,
      ...(change.errorMessage !== undefined ? { error_message: change.errorMessage } : {}),
      ...(change.failedStep !== undefined ? { failed_step: change.failedStep } : {}),
      ...(change.failureReason !== undefined ? { failure_reason: change.failureReason } : {}),
      ...(change.image !== undefined ? { image: change.image } : {}),
      ...(change.buildId !== undefined ? { build_id: change.buildId } : {}),
    })
    .where("id", "=", deploymentId)
    .where((eb) => eb.or([eb("status", "=", change.status), eb("status", "not in", ["ready", "failed", "cancelled"])]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Stores the OpenAPI document scraped from a running instance. */
export async function setDeploymentOpenApiSpec(db: Db, deploymentId: string, spec: string, now: number): Promise<void> {
  await db.updateTable("deployments").set({ openapi_spec: spec, updated_at: now }).where("id", "=", deploymentId).execute();
}

/** Who owns a deployment: what authorization and routing checks compare. */
export type DeploymentOwner = Pick<Deployment, "id" | "project_id" | "workspace_id" | "environment_id">;

/** The deployment's owner columns, or undefined. */
export async function findDeploymentOwner(db: Db, deploymentId: string): Promise<DeploymentOwner | undefined> {
  return db
    .selectFrom("deployments")
    .select(["id", "project_id", "workspace_id", "environment_id"])
    .where("id", "=", deploymentId)
    .executeTakeFirst();
}

/** Inserts a new deployment row. */
export async function insertDeployment(db: Db | Transaction<Database>, deployment: NewDeployment): Promise<void> {
  await db.insertInto("deployments").values(deployment).execute();
}

/** Ids of up to `limit` deployments still `pending` that were created before `createdBefore`, oldest first. */
export async function listStalePendingDeploymentIds(db: Db, createdBefore: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom("deployments")
    .select("id")
    .where("status", "=", "pending")
    .where("created_at", "<", createdBefore)
    .orderBy("created_at")
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Marks a deployment `failed` at `failedStep` only while it is still `pending` (a workflow that did
 * start keeps its own status). Returns whether it changed.
 */
export async function failPendingDeployment(
  db: Db,
  deploymentId: string,
  failure: { errorMessage: string; failedStep: string; now: number },
): Promise<boolean> {
  const updated = await db
    .updateTable("deployments")
    .set({ status: "failed", error_message: failure.errorMessage, failed_step: failure.failedStep, updated_at: failure.now })
    .where("id", "=", deploymentId)
    .where("status", "=", "pending")
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/** A page of a project's deployments. */
export interface DeploymentPageQuery {
  projectId: string;
  /** Only this environment's deployments. */
  environmentId?: string;
  /** Keyset cursor: only deployments before this (created_at, id) in newest-first order. */
  before?: { createdAt: number; id: string };
  limit: number;
}

/** A project's deployments newest first (created_at, then id, descending), up to `limit`. */
export async function listProjectDeployments(db: Db, q: DeploymentPageQuery): Promise<Deployment[]> {
  let query = db.selectFrom("deployments").selectAll().where("project_id", "=", q.projectId);
  if (q.environmentId) query = query.where("environment_id", "=", q.environmentId);
  const before = q.before;
  if (before)
    query = query.where((eb) =>
      eb.or([eb("created_at", "<", before.createdAt), eb.and([eb("created_at", "=", before.createdAt), eb("id", "<", before.id)])]),
    );
  return query.orderBy("created_at", "desc").orderBy("id", "desc").limit(q.limit).execute();
}
