import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { DeleteEnvironmentRequest, DeleteEnvironmentResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { deleteEnvironment as remove } from "../../resource-model/environments.js";

/** EnvironmentService.DeleteEnvironment (`write_environment`): refused while it runs deployments. */
export async function deleteEnvironment(
  deps: ApiDeps,
  req: DeleteEnvironmentRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof DeleteEnvironmentResponseSchema>> {
  await remove(deps, ctx.values.get(principalKey), req);
  return {};
}
