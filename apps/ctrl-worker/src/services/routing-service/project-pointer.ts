import type { Database } from "@ctrl/db";
import type { Kysely } from "kysely";

/** The project's live pointer and pin as plain JSON values (MySQL booleans come back as 0/1). */
export async function readProjectPointer(
  db: Kysely<Database>,
  projectId: string,
): Promise<{ liveDeploymentId: string | null; isRolledBack: boolean }> {
  const row = await db
    .selectFrom("projects")
    .select(["live_deployment_id", "is_rolled_back"])
    .where("id", "=", projectId)
    .executeTakeFirst();
  return { liveDeploymentId: row?.live_deployment_id ?? null, isRolledBack: Boolean(Number(row?.is_rolled_back ?? 0)) };
}
