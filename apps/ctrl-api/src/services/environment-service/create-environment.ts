import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { CreateEnvironmentRequest, CreateEnvironmentResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { createEnvironment as create } from "../../resource-model/environments.js";
import { environmentWire } from "../../resource-model/views.js";

/** EnvironmentService.CreateEnvironment (`write_environment`). */
export async function createEnvironment(
  deps: ApiDeps,
  req: CreateEnvironmentRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof CreateEnvironmentResponseSchema>> {
  return { environment: environmentWire(await create(deps, ctx.values.get(principalKey), req)) };
}
