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
  input: { workspaceId: string; name: string; permissions: string[]; now: number; expiresAt?: number | null },
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
      expires_at: input.expiresAt ?? null,
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

/** A root key as listed: everything but its hash (the secret is never stored, so never shown again). */
export type RootKeySummary = Omit<ApiKey, "hash">;

/** A workspace's keys, newest first, revoked ones included (with `deleted_at`). */
export async function listRootKeys(db: Db, workspaceId: string): Promise<RootKeySummary[]> {
  return db
    .selectFrom("api_keys")
    .select(["id", "workspace_id", "name", "start", "permissions", "expires_at", "deleted_at", "created_at"])
    .where("workspace_id", "=", workspaceId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .execute();
}

/** The key with `id` (no hash), or undefined. */
export async function findRootKeyById(db: Db, id: string): Promise<RootKeySummary | undefined> {
  return db
    .selectFrom("api_keys")
    .select(["id", "workspace_id", "name", "start", "permissions", "expires_at", "deleted_at", "created_at"])
    .where("id", "=", id)
    .executeTakeFirst();
}

/**
 * Revokes a key: from `now` on {@link findRootKey} no longer finds it (every request looks the key
 * up, so the next one is refused). Idempotent: an already revoked key keeps its first `deleted_at`.
 */
export async function revokeRootKey(db: Db, id: string, now: number): Promise<void> {
  await db.updateTable("api_keys").set({ deleted_at: now }).where("id", "=", id).where("deleted_at", "is", null).execute();
}

/**
 * Whether `permissions` grant the workspace-level `action` (`workspace.<action|*>`), e.g.
 * `workspace.create_project`, `workspace.manage_keys`.
 */
export function hasWorkspacePermission(permissions: readonly string[], action: string): boolean {
  if (!action) return false;
  return permissions.some((p) => {
    const [kind, act, ...rest] = p.split(".");
    return kind === "workspace" && rest.length === 0 && (act === "*" || act === action);
  });
}

/**
 * Whether holding `held` covers `wanted` (a key may only hand out what it holds): same shape, and each
 * segment equal or `*` in the held one.
 */
export function permissionCovers(held: readonly string[], wanted: string): boolean {
  const w = wanted.split(".");
  return held.some((p) => {
    const h = p.split(".");
    return h.length === w.length && h.every((seg, i) => (seg === "*" ? i > 0 : seg === w[i]));
  });
}
