import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { CreateRootKeyRequest, CreateRootKeyResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { createRootKey as create } from "../../resource-model/root-keys.js";
import { rootKeyWire } from "../../resource-model/views.js";

/** RootKeyService.CreateRootKey (`workspace.manage_keys`): the key and its secret, shown once. */
export async function createRootKey(
  deps: ApiDeps,
  req: CreateRootKeyRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof CreateRootKeyResponseSchema>> {
  const created = await create(deps, ctx.values.get(principalKey), { ...req, expiresAt: Number(req.expiresAt) });
  return { key: rootKeyWire(created.key), secret: created.secret };
}
