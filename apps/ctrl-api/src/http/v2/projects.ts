import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { createProject, deleteProject, getProject, listProjects, updateProject } from "../../resource-model/projects.js";
import { resourceEndpoint } from "./resource-endpoint.js";

const text = (what: string) => z.string({ error: `must be a string (${what})` });
const projectId = text("a project id");

/** Request bodies of the project endpoints (exported for the API description). */
export const projectBodies = {
  createProject: z.object({ name: text("a display name"), slug: text("e.g. my-app"), defaultBranch: text("a git branch").optional() }),
  getProject: z.object({ projectId }),
  listProjects: z.object({
    pageSize: z.number({ error: "must be a number from 1 to 100" }).int("must be a whole number").optional(),
    pageToken: text("a token from a previous response").optional(),
  }),
  updateProject: z.object({ projectId, name: text("a display name").optional(), defaultBranch: text("a git branch").optional() }),
  deleteProject: z.object({ projectId, force: z.boolean({ error: "must be true or false" }).optional() }),
};

/**
 * `POST /v2/projects.createProject` `{name, slug, defaultBranch?}` → 201 `{project, environments}`
 * (permission `workspace.create_project`; 409 for a slug taken in the workspace);
 * `projects.getProject` `{projectId}` → 200 `{project, environments}` (`read_project`);
 * `projects.listProjects` `{pageSize?, pageToken?}` → 200 `{projects, nextPageToken}`;
 * `projects.updateProject` `{projectId, name?, defaultBranch?}` → 200 `{project}` (`update_project`);
 * `projects.deleteProject` `{projectId, force?}` → 200 `{cancelledDeploymentIds, stoppedDeploymentIds}`
 * (`delete_project`; 412 while it runs, unless `force`). Same validation and rules as ProjectService.
 */
export function registerProjectEndpoints(app: FastifyInstance, deps: ApiDeps): void {
  resourceEndpoint(app, deps, "/v2/projects.createProject", projectBodies.createProject, 201, (principal, body) =>
    createProject(deps, principal, { name: body.name, slug: body.slug, defaultBranch: body.defaultBranch ?? "", workspaceId: "" }),
  );
  resourceEndpoint(app, deps, "/v2/projects.getProject", projectBodies.getProject, 200, (principal, body) =>
    getProject(deps, principal, body.projectId),
  );
  resourceEndpoint(app, deps, "/v2/projects.listProjects", projectBodies.listProjects, 200, (principal, body) =>
    listProjects(deps, principal, { pageSize: body.pageSize ?? 0, pageToken: body.pageToken ?? "", workspaceId: "" }),
  );
  resourceEndpoint(app, deps, "/v2/projects.updateProject", projectBodies.updateProject, 200, async (principal, body) => ({
    project: await updateProject(deps, principal, {
      projectId: body.projectId,
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.defaultBranch !== undefined ? { defaultBranch: body.defaultBranch } : {}),
    }),
  }));
  resourceEndpoint(app, deps, "/v2/projects.deleteProject", projectBodies.deleteProject, 200, (principal, body) =>
    deleteProject(deps, principal, { projectId: body.projectId, force: body.force ?? false }),
  );
}
