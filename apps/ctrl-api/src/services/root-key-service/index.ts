import type { ServiceImpl } from "@connectrpc/connect";
import type { RootKeyService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { createRootKey } from "./create-root-key.js";
import { listRootKeys } from "./list-root-keys.js";
import { revokeRootKey } from "./revoke-root-key.js";

/** RootKeyService (a workspace's root keys): one file per method in this folder. */
export function createRootKeyService(deps: ApiDeps): ServiceImpl<typeof RootKeyService> {
  return {
    createRootKey: (req, ctx) => createRootKey(deps, req, ctx),
    listRootKeys: (req, ctx) => listRootKeys(deps, req, ctx),
    revokeRootKey: (req, ctx) => revokeRootKey(deps, req, ctx),
  };
}
