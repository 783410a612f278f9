import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { ListProjectsRequest, ListProjectsResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { listProjects as list } from "../../resource-model/projects.js";
import { projectWire } from "../../resource-model/views.js";

/** ProjectService.ListProjects: the workspace's projects the caller may read, by slug. */
export async function listProjects(
  deps: ApiDeps,
  req: ListProjectsRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof ListProjectsResponseSchema>> {
  const page = await list(deps, ctx.values.get(principalKey), req);
  return { projects: page.projects.map(projectWire), nextPageToken: page.nextPageToken };
}
