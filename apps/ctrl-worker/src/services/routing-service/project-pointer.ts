import { findProjectPointer, type Db } from "@ctrl/db";

/** The project's live pointer and pin as plain JSON values (MySQL booleans come back as 0/1). */
export async function readProjectPointer(db: Db, projectId: string): Promise<{ liveDeploymentId: string | null; isRolledBack: boolean }> {
  const pointer = await findProjectPointer(db, projectId);
  return { liveDeploymentId: pointer?.liveDeploymentId ?? null, isRolledBack: pointer?.isRolledBack ?? false };
}
