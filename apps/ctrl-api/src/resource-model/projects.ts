import { Code, ConnectError } from "@connectrpc/connect";
import type { DeploymentServiceApi, DeployWorkflowApi } from "@ctrl/ctrl-worker/api";
import { deploymentServiceName, deployWorkflowName } from "@ctrl/ctrl-worker/contract";
import {
  createProjectWithEnvironments,
  deleteProjectRows,
  findProjectActivity,
  findProjectById,
  hasProjectPermission,
  listProjectEnvironments,
  listWorkspaceProjects,
  newId,
  updateProjectSettings,
} from "@ctrl/db";
import type { Principal } from "../auth.js";
import { deploymentDefaults } from "../deployment-model/defaults.js";
import { InvalidField } from "../deployment-model/errors.js";
import type { ApiDeps } from "../deps.js";
import { connectErrorFromRestate } from "../restate-errors.js";
import { authorizeProjectResource, requireWorkspaceAccess, resourcePermissions } from "./access.js";
import { validateBranch, validateName, validateSlug } from "./validate.js";
import { environmentView, projectView, type EnvironmentView, type ProjectView } from "./views.js";

/** A project with its environments. */
export interface ProjectWithEnvironments {
  project: ProjectView;
  environments: EnvironmentView[];
}

const now = (deps: ApiDeps) => (deps.now ?? Date.now)();

/** CreateProject: validates, checks `workspace.create_project`, creates it with `production` and `preview`. */
export async function createProject(
  deps: ApiDeps,
  principal: Principal | undefined,
  input: { name: string; slug: string; defaultBranch: string; workspaceId: string },
): Promise<ProjectWithEnvironments> {
  const name = validateName(input.name);
  const slug = validateSlug(input.slug);
  const defaultBranch = input.defaultBranch.trim() ? validateBranch(input.defaultBranch) : deploymentDefaults.branch;
  const workspaceId = await requireWorkspaceAccess(deps.db, principal, input.workspaceId, resourcePermissions.createProject);
  const id = newId("proj");
  const created = await createProjectWithEnvironments(deps.db, {
    id,
    workspaceId,
    name,
    slug,
    defaultBranch,
    environmentIds: [newId("env"), newId("env")],
    now: now(deps),
  });
  if (!created.ok)
    throw new ConnectError(`a project with slug "${slug}" already exists in this workspace; choose another slug`, Code.AlreadyExists);
  deps.logger.info({ projectId: id, workspaceId, slug }, "project created");
  return { project: projectView(created.project), environments: created.environments.map(environmentView) };
}

/** GetProject (`read_project`). */
export async function getProject(deps: ApiDeps, principal: Principal | undefined, projectId: string): Promise<ProjectWithEnvironments> {
  const project = await authorizeProjectResource(deps.db, principal, projectId, resourcePermissions.readProject);
  return { project: projectView(project), environments: (await listProjectEnvironments(deps.db, project.id)).map(environmentView) };
}

/** ListProjects: the workspace's projects the principal may read, by slug, paged by an opaque token. */
export async function listProjects(
  deps: ApiDeps,
  principal: Principal | undefined,
  input: { pageSize: number; pageToken: string; workspaceId: string },
): Promise<{ projects: ProjectView[]; nextPageToken: string }> {
  if (!Number.isInteger(input.pageSize) || input.pageSize < 0 || input.pageSize > 100)
    throw new InvalidField("page_size", "pageSize", "must be from 1 to 100 (0 = 50)");
  const pageSize = input.pageSize || 50;
  let afterSlug: string | undefined;
  if (input.pageToken) {
    afterSlug = decodeToken(input.pageToken);
    if (afterSlug === undefined) throw new InvalidField("page_token", "pageToken", "is not a token from a previous response");
  }
  let workspaceId: string;
  if (principal?.kind === "root_key") {
    if (input.workspaceId.trim() && input.workspaceId.trim() !== principal.workspaceId)
      throw new ConnectError(`workspace ${input.workspaceId.trim()} not found`, Code.NotFound);
    workspaceId = principal.workspaceId;
  } else {
    // The operator names the workspace; other principals are refused there.
    workspaceId = await requireWorkspaceAccess(deps.db, principal, input.workspaceId, resourcePermissions.readProject);
  }
  const readable = (id: string) =>
    principal?.kind !== "root_key" || hasProjectPermission(principal.permissions, id, resourcePermissions.readProject);
  const projects: ProjectView[] = [];
  let cursor = afterSlug;
  let more = true;
  // Filtering by permission happens after the query: read pages until one is full or the rows end.
  while (projects.length <= pageSize && more) {
    const rows = await listWorkspaceProjects(deps.db, workspaceId, { limit: 200, ...(cursor !== undefined ? { afterSlug: cursor } : {}) });
    more = rows.length === 200;
    for (const row of rows) {
      cursor = row.slug;
      if (readable(row.id)) projects.push(projectView(row));
      if (projects.length > pageSize) break;
    }
  }
  const page = projects.slice(0, pageSize);
  const last = page.at(-1);
  return { projects: page, nextPageToken: projects.length > pageSize && last ? encodeToken(last.slug) : "" };
}

function encodeToken(slug: string): string {
  return Buffer.from(JSON.stringify({ s: slug })).toString("base64url");
}

function decodeToken(token: string): string | undefined {
  if (token.length > 200) return undefined;
  try {
    const value = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { s?: unknown };
    return typeof value.s === "string" ? value.s : undefined;
  } catch {
    return undefined;
  }
}

/** UpdateProject (`update_project`): the fields that are set. */
export async function updateProject(
  deps: ApiDeps,
  principal: Principal | undefined,
  input: { projectId: string; name?: string; defaultBranch?: string },
): Promise<ProjectView> {
  const change = {
    ...(input.name !== undefined ? { name: validateName(input.name) } : {}),
    ...(input.defaultBranch !== undefined ? { defaultBranch: validateBranch(input.defaultBranch) } : {}),
  };
  const project = await authorizeProjectResource(deps.db, principal, input.projectId, resourcePermissions.updateProject);
  await updateProjectSettings(deps.db, project.id, change, now(deps));
  deps.logger.info({ projectId: project.id, ...change }, "project updated");
  return projectView((await findProjectById(deps.db, project.id))!);
}

/**
 * DeleteProject (`delete_project`). Refused (`failed_precondition`, naming what runs) while a deploy is
 * in progress or instances run; with `force` it first cancels the deploys (DeployWorkflow.cancel: the
 * workflow stops its topology at its next step), then has the worker's `DeploymentService.stopProject`
 * stop every running topology row and archive the sentinels, then deletes the configuration.
 */
export async function deleteProject(
  deps: ApiDeps,
  principal: Principal | undefined,
  input: { projectId: string; force: boolean },
): Promise<{ cancelledDeploymentIds: string[]; stoppedDeploymentIds: string[] }> {
  const project = await authorizeProjectResource(deps.db, principal, input.projectId, resourcePermissions.deleteProject);
  const activity = await findProjectActivity(deps.db, project.id);
  const stopped = [...new Set(activity.runningTopology.map((t) => t.deploymentId))];
  if (!input.force && (activity.inProgressDeploymentIds.length || stopped.length)) {
    const parts = [
      activity.inProgressDeploymentIds.length ? `deploys in progress: ${activity.inProgressDeploymentIds.join(", ")}` : "",
      stopped.length ? `running deployments: ${stopped.join(", ")}` : "",
    ].filter(Boolean);
    throw new ConnectError(
      `project ${project.id} still runs (${parts.join("; ")}); stop them first or delete with force to stop them`,
      Code.FailedPrecondition,
    );
  }
  const log = deps.logger.child({ projectId: project.id });
  try {
    for (const deploymentId of activity.inProgressDeploymentIds)
      await deps.restate
        .workflowClient<DeployWorkflowApi>({ name: deployWorkflowName }, deploymentId)
        .cancel({ reason: `project ${project.id} deleted` });
    // The worker's DeploymentService (exclusive per project) commits the stops through VersioningService.
    if (stopped.length || activity.activeSentinels.length)
      await deps.restate.objectClient<DeploymentServiceApi>({ name: deploymentServiceName }, project.id).stopProject();
  } catch (err) {
    throw connectErrorFromRestate(err, `stopping project ${project.id}`);
  }
  await deleteProjectRows(deps.db, project.id);
  log.info({ cancelled: activity.inProgressDeploymentIds, stopped, force: input.force }, "project deleted");
  return { cancelledDeploymentIds: activity.inProgressDeploymentIds, stoppedDeploymentIds: stopped };
}
