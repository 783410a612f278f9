import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { ListRootKeysRequest, ListRootKeysResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { listRootKeys as list } from "../../resource-model/root-keys.js";
import { rootKeyWire } from "../../resource-model/views.js";

/** RootKeyService.ListRootKeys (`workspace.manage_keys`): newest first, without secrets. */
export async function listRootKeys(
  deps: ApiDeps,
  req: ListRootKeysRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof ListRootKeysResponseSchema>> {
  return { keys: (await list(deps, ctx.values.get(principalKey), req)).map(rootKeyWire) };
}
