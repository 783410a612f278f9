import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { CreateProjectRequest, CreateProjectResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { createProject as create } from "../../resource-model/projects.js";
import { environmentWire, projectWire } from "../../resource-model/views.js";

/** ProjectService.CreateProject (`workspace.create_project`): the project with `production` and `preview`. */
export async function createProject(
  deps: ApiDeps,
  req: CreateProjectRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof CreateProjectResponseSchema>> {
  const created = await create(deps, ctx.values.get(principalKey), req);
  return { project: projectWire(created.project), environments: created.environments.map(environmentWire) };
}
