import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { createRootKey, listRootKeys, revokeRootKey } from "../../resource-model/root-keys.js";
import { resourceEndpoint } from "./resource-endpoint.js";

const text = (what: string) => z.string({ error: `must be a string (${what})` });

/** Request bodies of the root-key endpoints (exported for the API description). */
export const rootKeyBodies = {
  createRootKey: z.object({
    name: text("a name for the key"),
    permissions: z.array(text("e.g. project.*.read_deployment"), { error: "must be an array of permissions" }),
    expiresAt: z.number({ error: "must be Unix milliseconds (a number)" }).int("must be whole Unix milliseconds").optional(),
  }),
  listRootKeys: z.object({}),
  revokeRootKey: z.object({ keyId: text("a key id") }),
};

/**
 * `POST /v2/keys.createRootKey` `{name, permissions, expiresAt?}` → 201 `{key, secret}` (the secret
 * shown once); `keys.listRootKeys` `{}` → 200 `{keys}` (no secrets); `keys.revokeRootKey` `{keyId}` →
 * 200 `{key}` (the next request with it is 401). All need `workspace.manage_keys`; a key may only
 * grant permissions it holds (403 otherwise).
 */
export function registerRootKeyEndpoints(app: FastifyInstance, deps: ApiDeps): void {
  resourceEndpoint(app, deps, "/v2/keys.createRootKey", rootKeyBodies.createRootKey, 201, (principal, body) =>
    createRootKey(deps, principal, { name: body.name, permissions: body.permissions, expiresAt: body.expiresAt ?? 0, workspaceId: "" }),
  );
  resourceEndpoint(app, deps, "/v2/keys.listRootKeys", rootKeyBodies.listRootKeys, 200, async (principal) => ({
    keys: await listRootKeys(deps, principal, { workspaceId: "" }),
  }));
  resourceEndpoint(app, deps, "/v2/keys.revokeRootKey", rootKeyBodies.revokeRootKey, 200, async (principal, body) => ({
    key: await revokeRootKey(deps, principal, body),
  }));
}
