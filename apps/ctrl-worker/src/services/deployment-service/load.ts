import { findDeploymentById, type Db, type Deployment } from "@ctrl/db";
import type { DomainErrorCode } from "../../errors.js";

/** A precondition outcome computed inside `ctx.run`: either a plan or the exact error to raise. */
export type Checked<T> = { ok: true; plan: T } | { ok: false; code: DomainErrorCode; message: string };

/** Builds a failed {@link Checked}. */
export function reject<T>(code: DomainErrorCode, message: string): Checked<T> {
  return { ok: false, code, message };
}

/** The project row's pointer fields (booleans normalised). */
export interface ProjectPointer {
  id: string;
  workspaceId: string;
  liveDeploymentId: string | null;
  isRolledBack: boolean;
}

/** Reads the project of the object key. */
export async function loadProjectPointer(db: Db, projectId: string): Promise<ProjectPointer | undefined> {
  const row = await db
    .selectFrom("projects")
    .select(["id", "workspace_id", "live_deployment_id", "is_rolled_back"])
    .where("id", "=", projectId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    liveDeploymentId: row.live_deployment_id,
    isRolledBack: Boolean(Number(row.is_rolled_back)),
  };
}

/** Loads a deployment by id (undefined when missing or blank id). */
export async function loadDeployment(db: Db, deploymentId: string | undefined): Promise<Deployment | undefined> {
  if (!deploymentId) return undefined;
  return findDeploymentById(db, deploymentId);
}
