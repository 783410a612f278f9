import { Code, ConnectError } from "@connectrpc/connect";
import {
  createEnvironment as insertEnvironment,
  deleteEnvironmentRows,
  environmentHasRunningDeployments,
  findEnvironmentBySlug,
  listProjectEnvironments,
  newId,
  updateEnvironmentSettings,
  type Environment,
} from "@ctrl/db";
import type { Principal } from "../auth.js";
import { InvalidField } from "../deployment-model/errors.js";
import type { ApiDeps } from "../deps.js";
import { authorizeProjectResource, resourcePermissions } from "./access.js";
import { validateEnvironmentSettings, validateSlug, type EnvironmentSettingsInput } from "./validate.js";
import { environmentView, type EnvironmentView } from "./views.js";

const now = (deps: ApiDeps) => (deps.now ?? Date.now)();

async function loadEnvironment(deps: ApiDeps, projectId: string, environmentSlug: string): Promise<Environment> {
  const slug = environmentSlug.trim();
  if (!slug) throw new InvalidField("environment_slug", "environmentSlug", "is required (e.g. production)");
  if (slug.length > 64) throw new InvalidField("environment_slug", "environmentSlug", "must be at most 64 characters");
  const environment = await findEnvironmentBySlug(deps.db, projectId, slug);
  if (!environment) {
    const valid = (await listProjectEnvironments(deps.db, projectId)).map((e) => e.slug);
    throw new ConnectError(
      `environment "${slug}" not found in project ${projectId}${valid.length ? ` (it has: ${valid.join(", ")})` : ""}`,
      Code.NotFound,
    );
  }
  return environment;
}

/** CreateEnvironment (`write_environment`): a new environment of the project with its settings. */
export async function createEnvironment(
  deps: ApiDeps,
  principal: Principal | undefined,
  input: { projectId: string; slug: string } & EnvironmentSettingsInput,
): Promise<EnvironmentView> {
  const slug = validateSlug(input.slug);
  const settings = validateEnvironmentSettings(input);
  const project = await authorizeProjectResource(deps.db, principal, input.projectId, resourcePermissions.writeEnvironment);
  const created = await insertEnvironment(deps.db, {
    id: newId("env"),
    workspaceId: project.workspace_id,
    projectId: project.id,
    slug,
    settings,
    now: now(deps),
  });
  if (!created.ok)
    throw new ConnectError(`environment "${slug}" already exists in project ${project.id}; choose another slug`, Code.AlreadyExists);
  deps.logger.info({ projectId: project.id, environmentId: created.environment.id, slug }, "environment created");
  return environmentView(created.environment);
}

/** ListEnvironments (`read_environment`). */
export async function listEnvironments(deps: ApiDeps, principal: Principal | undefined, projectId: string): Promise<EnvironmentView[]> {
  const project = await authorizeProjectResource(deps.db, principal, projectId, resourcePermissions.readEnvironment);
  return (await listProjectEnvironments(deps.db, project.id)).map(environmentView);
}

/** UpdateEnvironment (`write_environment`): the settings that are set; the next deployment gets them. */
export async function updateEnvironment(
  deps: ApiDeps,
  principal: Principal | undefined,
  input: { projectId: string; environmentSlug: string } & EnvironmentSettingsInput,
): Promise<EnvironmentView> {
  const settings = validateEnvironmentSettings(input);
  const project = await authorizeProjectResource(deps.db, principal, input.projectId, resourcePermissions.writeEnvironment);
  const environment = await loadEnvironment(deps, project.id, input.environmentSlug);
  const updated = await updateEnvironmentSettings(deps.db, environment.id, settings, now(deps));
  deps.logger.info({ projectId: project.id, environmentId: environment.id, settings }, "environment updated");
  return environmentView(updated!);
}

/**
 * DeleteEnvironment (`write_environment`): removes the environment with its routes, custom domains
 * and variables. `failed_precondition` while one of its deploys is in progress or its instances run.
 */
export async function deleteEnvironment(
  deps: ApiDeps,
  principal: Principal | undefined,
  input: { projectId: string; environmentSlug: string },
): Promise<void> {
  const project = await authorizeProjectResource(deps.db, principal, input.projectId, resourcePermissions.writeEnvironment);
  const environment = await loadEnvironment(deps, project.id, input.environmentSlug);
  if (await environmentHasRunningDeployments(deps.db, environment.id))
    throw new ConnectError(
      `environment "${environment.slug}" of project ${project.id} still runs deployments; stop them first (or delete the project with force)`,
      Code.FailedPrecondition,
    );
  await deleteEnvironmentRows(deps.db, environment.id);
  deps.logger.info({ projectId: project.id, environmentId: environment.id }, "environment deleted");
}
