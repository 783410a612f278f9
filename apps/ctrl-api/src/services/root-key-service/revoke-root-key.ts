import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { RevokeRootKeyRequest, RevokeRootKeyResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { revokeRootKey as revoke } from "../../resource-model/root-keys.js";
import { rootKeyWire } from "../../resource-model/views.js";

/** RootKeyService.RevokeRootKey (`workspace.manage_keys`): the next request with the key is refused. */
export async function revokeRootKey(
  deps: ApiDeps,
  req: RevokeRootKeyRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof RevokeRootKeyResponseSchema>> {
  return { key: rootKeyWire(await revoke(deps, ctx.values.get(principalKey), req)) };
}
