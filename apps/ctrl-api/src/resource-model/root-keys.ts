import { Code, ConnectError } from "@connectrpc/connect";
import {
  createRootKey as insertRootKey,
  findRootKeyById,
  listRootKeys as selectRootKeys,
  permissionCovers,
  revokeRootKey as markRevoked,
} from "@ctrl/db";
import type { Principal } from "../auth.js";
import { InvalidField } from "../deployment-model/errors.js";
import type { ApiDeps } from "../deps.js";
import { requireWorkspaceAccess, resourcePermissions } from "./access.js";
import { validateName, validatePermissions } from "./validate.js";
import { rootKeyView, type RootKeyView } from "./views.js";

const now = (deps: ApiDeps) => (deps.now ?? Date.now)();

/**
 * CreateRootKey (`workspace.manage_keys`): a key of the workspace with `permissions`, each of which
 * the calling key must hold itself (no escalation), and an optional expiry in the future. The secret
 * is returned here only.
 */
export async function createRootKey(
  deps: ApiDeps,
  principal: Principal | undefined,
  input: { name: string; permissions: readonly string[]; expiresAt: number; workspaceId: string },
): Promise<{ key: RootKeyView; secret: string }> {
  const name = validateName(input.name);
  const permissions = validatePermissions(input.permissions);
  const at = now(deps);
  if (!Number.isSafeInteger(input.expiresAt) || input.expiresAt < 0)
    throw new InvalidField("expires_at", "expiresAt", "must be Unix milliseconds (0 = never)");
  if (input.expiresAt !== 0 && input.expiresAt <= at) throw new InvalidField("expires_at", "expiresAt", "must be in the future");
  const workspaceId = await requireWorkspaceAccess(deps.db, principal, input.workspaceId, resourcePermissions.manageKeys);
  if (principal?.kind === "root_key") {
    const lacking = permissions.filter((p) => !permissionCovers(principal.permissions, p));
    if (lacking.length)
      throw new ConnectError(
        `permission denied: a key can only grant permissions it holds; it lacks ${lacking.join(", ")}`,
        Code.PermissionDenied,
      );
  }
  const created = await insertRootKey(deps.db, { workspaceId, name, permissions, now: at, expiresAt: input.expiresAt || null });
  deps.logger.info({ keyId: created.id, workspaceId, permissions }, "root key created");
  return { key: rootKeyView((await findRootKeyById(deps.db, created.id))!), secret: created.key };
}

/** ListRootKeys (`workspace.manage_keys`): newest first, never a secret. */
export async function listRootKeys(
  deps: ApiDeps,
  principal: Principal | undefined,
  input: { workspaceId: string },
): Promise<RootKeyView[]> {
  const workspaceId = await requireWorkspaceAccess(deps.db, principal, input.workspaceId, resourcePermissions.manageKeys);
  return (await selectRootKeys(deps.db, workspaceId)).map(rootKeyView);
}

/** RevokeRootKey (`workspace.manage_keys`): `not_found` for a key of another workspace; idempotent. */
export async function revokeRootKey(deps: ApiDeps, principal: Principal | undefined, input: { keyId: string }): Promise<RootKeyView> {
  const keyId = input.keyId.trim();
  if (!keyId) throw new InvalidField("key_id", "keyId", "is required");
  if (keyId.length > 64) throw new InvalidField("key_id", "keyId", "is not a valid key id");
  const key = await findRootKeyById(deps.db, keyId);
  const notFound = new ConnectError(`root key ${keyId} not found`, Code.NotFound);
  if (principal?.kind === "operator") {
    if (!key) throw notFound;
  } else {
    // A key of another workspace is reported exactly like a missing one.
    const workspaceId = await requireWorkspaceAccess(deps.db, principal, "", resourcePermissions.manageKeys);
    if (!key || key.workspace_id !== workspaceId) throw notFound;
  }
  await markRevoked(deps.db, key.id, now(deps));
  deps.logger.info({ keyId: key.id, workspaceId: key.workspace_id }, "root key revoked");
  return rootKeyView((await findRootKeyById(deps.db, key.id))!);
}
