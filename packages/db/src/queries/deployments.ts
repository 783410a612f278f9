import type { Db } from "../pool.js";
import type { Deployment, DeploymentStatus } from "../tables/deployments.js";
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
