import { findDeploymentById, type Db, type Deployment } from "@ctrl/db";
import type { DomainErrorCode } from "../../errors.js";

/** A precondition outcome computed inside `ctx.run`: either a plan or the exact error to raise. */
export type Checked<T> = { ok: true; plan: T } | { ok: false; code: DomainErrorCode; message: string };

/** Builds a failed {@link Checked}. */
export function reject<T>(code: DomainErrorCode, message: string): Checked<T> {
  return { ok: false, code, message };
}

/** Loads a deployment by id (undefined when missing or blank id). */
export async function loadDeployment(db: Db, deploymentId: string | undefined): Promise<Deployment | undefined> {
  if (!deploymentId) return undefined;
  return findDeploymentById(db, deploymentId);
}
