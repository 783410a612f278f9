import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { ListEnvironmentsRequest, ListEnvironmentsResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { listEnvironments as list } from "../../resource-model/environments.js";
import { environmentWire } from "../../resource-model/views.js";

/** EnvironmentService.ListEnvironments (`read_environment`), by slug. */
export async function listEnvironments(
  deps: ApiDeps,
  req: ListEnvironmentsRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof ListEnvironmentsResponseSchema>> {
  return { environments: (await list(deps, ctx.values.get(principalKey), req.projectId)).map(environmentWire) };
}
