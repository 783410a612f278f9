import type { Transaction } from "kysely";
import type { Database } from "../schema.js";

/**
 * Locks the workspace row (`SELECT … FOR UPDATE`) until the caller's transaction ends: serialises
 * work that must happen once per workspace (e.g. registering its ACME account).
 */
export async function lockWorkspace(trx: Transaction<Database>, workspaceId: string): Promise<void> {
  await trx.selectFrom("workspaces").select("id").where("id", "=", workspaceId).forUpdate().executeTakeFirst();
}
