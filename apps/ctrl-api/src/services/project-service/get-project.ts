import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { GetProjectRequest, GetProjectResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { getProject as get } from "../../resource-model/projects.js";
import { environmentWire, projectWire } from "../../resource-model/views.js";

/** ProjectService.GetProject (`read_project`): the project and its environments. */
export async function getProject(
  deps: ApiDeps,
  req: GetProjectRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof GetProjectResponseSchema>> {
  const found = await get(deps, ctx.values.get(principalKey), req.projectId);
  return { project: projectWire(found.project), environments: found.environments.map(environmentWire) };
}
