import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { DeleteProjectRequest, DeleteProjectResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { deleteProject as remove } from "../../resource-model/projects.js";

/** ProjectService.DeleteProject (`delete_project`): refused while it runs unless `force`. */
export async function deleteProject(
  deps: ApiDeps,
  req: DeleteProjectRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof DeleteProjectResponseSchema>> {
  return remove(deps, ctx.values.get(principalKey), req);
}
