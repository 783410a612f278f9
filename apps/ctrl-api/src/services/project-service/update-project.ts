import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { UpdateProjectRequest, UpdateProjectResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { updateProject as update } from "../../resource-model/projects.js";
import { projectWire } from "../../resource-model/views.js";

/** ProjectService.UpdateProject (`update_project`): name and default branch, when set. */
export async function updateProject(
  deps: ApiDeps,
  req: UpdateProjectRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof UpdateProjectResponseSchema>> {
  const project = await update(deps, ctx.values.get(principalKey), {
    projectId: req.projectId,
    ...(req.name !== undefined ? { name: req.name } : {}),
    ...(req.defaultBranch !== undefined ? { defaultBranch: req.defaultBranch } : {}),
  });
  return { project: projectWire(project) };
}
