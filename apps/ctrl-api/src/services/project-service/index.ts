import type { ServiceImpl } from "@connectrpc/connect";
import type { ProjectService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { createProject } from "./create-project.js";
import { deleteProject } from "./delete-project.js";
import { getProject } from "./get-project.js";
import { listProjects } from "./list-projects.js";
import { updateProject } from "./update-project.js";

/** ProjectService (a workspace's projects): one file per method in this folder. */
export function createProjectService(deps: ApiDeps): ServiceImpl<typeof ProjectService> {
  return {
    createProject: (req, ctx) => createProject(deps, req, ctx),
    getProject: (req, ctx) => getProject(deps, req, ctx),
    listProjects: (req, ctx) => listProjects(deps, req, ctx),
    updateProject: (req, ctx) => updateProject(deps, req, ctx),
    deleteProject: (req, ctx) => deleteProject(deps, req, ctx),
  };
}
