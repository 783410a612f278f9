import { createHash, randomBytes } from "node:crypto";
import { base58, newId } from "./ids.js";
import type { Db } from "./pool.js";
import type { ApiKey } from "./tables/api-keys.js";

/** Root keys look like `ctrl_<base58>`; the prefix makes leaked keys easy to scan for. */
export const rootKeyPrefix = "ctrl_";

/** sha256 hex of a key: what is stored and looked up. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Creates a root key and returns the plaintext once; only its hash is stored. */
export async function createRootKey(
  db: Db,
  input: { workspaceId: string; name: string; permissions: string[]; now: number },
): Promise<{ id: string; key: string }> {
  const key = rootKeyPrefix + base58(randomBytes(24));
  const id = newId("key");
  await db
    .insertInto("api_keys")
    .values({
      id,
      workspace_id: input.workspaceId,
      name: input.name,
      hash: hashKey(key),
      start: key.slice(0, 9),
      permissions: JSON.stringify(input.permissions),
      expires_at: null,
      deleted_at: null,
      created_at: input.now,
    })
    .execute();
  return { id, key };
}

/** Finds a live (not deleted, not expired) key by its plaintext. */
export async function findRootKey(db: Db, key: string, now: number): Promise<ApiKey | undefined> {
  const row = await db.selectFrom("api_keys").selectAll().where("hash", "=", hashKey(key)).executeTakeFirst();
  if (!row || row.deleted_at !== null || (row.expires_at !== null && row.expires_at <= now)) return undefined;
  return row;
}

/**
 * Whether `permissions` grant `action` on `projectId`. A permission is `project.<id|*>.<action|*>`.
 */
export function hasProjectPermission(permissions: readonly string[], projectId: string, action: string): boolean {
  // An empty project id or action never matches (e.g. "project..x" against ""): nothing is granted by accident.
  if (!projectId || !action) return false;
  return permissions.some((p) => {
    const [kind, id, act, ...rest] = p.split(".");
    return kind === "project" && rest.length === 0 && (id === "*" || id === projectId) && (act === "*" || act === action);
  });
}
