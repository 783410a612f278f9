import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { createEnvironment, deleteEnvironment, listEnvironments, updateEnvironment } from "../../resource-model/environments.js";
import { resourceEndpoint } from "./resource-endpoint.js";

const text = (what: string) => z.string({ error: `must be a string (${what})` });
const whole = (what: string) => z.number({ error: `must be a number (${what})` }).int("must be a whole number");
const settings = {
  regions: z.array(text("a region name"), { error: "must be an array of region names" }).optional(),
  replicas: whole("replicas per region; 0 = the default").optional(),
  cpuMillicores: whole("millicores; 0 = the default").optional(),
  memoryMib: whole("MiB; 0 = the default").optional(),
  healthCheckPath: text('a path such as /health; "" = the default').optional(),
};

const projectId = text("a project id");
const environmentSlug = text("e.g. production");

/** Request bodies of the environment endpoints (exported for the API description). */
export const environmentBodies = {
  createEnvironment: z.object({ projectId, slug: text("e.g. staging"), ...settings }),
  listEnvironments: z.object({ projectId }),
  updateEnvironment: z.object({ projectId, environmentSlug, ...settings }),
  deleteEnvironment: z.object({ projectId, environmentSlug }),
};

function settingsOf(body: { regions?: string[]; replicas?: number; cpuMillicores?: number; memoryMib?: number; healthCheckPath?: string }) {
  return {
    ...(body.regions !== undefined ? { regions: body.regions } : {}),
    ...(body.replicas !== undefined ? { replicas: body.replicas } : {}),
    ...(body.cpuMillicores !== undefined ? { cpuMillicores: body.cpuMillicores } : {}),
    ...(body.memoryMib !== undefined ? { memoryMib: body.memoryMib } : {}),
    ...(body.healthCheckPath !== undefined ? { healthCheckPath: body.healthCheckPath } : {}),
  };
}

/**
 * `POST /v2/environments.createEnvironment` `{projectId, slug, regions?, replicas?, cpuMillicores?,
 * memoryMib?, healthCheckPath?}` → 201 `{environment}` (`write_environment`; 409 for a taken slug);
 * `environments.listEnvironments` `{projectId}` → 200 `{environments}` (`read_environment`);
 * `environments.updateEnvironment` `{projectId, environmentSlug, …settings}` → 200 `{environment}`
 * (absent = unchanged; 0 / "" / [] = the default); `environments.deleteEnvironment`
 * `{projectId, environmentSlug}` → 200 `{}` (412 while it runs deployments).
 */
export function registerEnvironmentEndpoints(app: FastifyInstance, deps: ApiDeps): void {
  resourceEndpoint(app, deps, "/v2/environments.createEnvironment", environmentBodies.createEnvironment, 201, async (principal, body) => ({
    environment: await createEnvironment(deps, principal, { projectId: body.projectId, slug: body.slug, ...settingsOf(body) }),
  }));
  resourceEndpoint(app, deps, "/v2/environments.listEnvironments", environmentBodies.listEnvironments, 200, async (principal, body) => ({
    environments: await listEnvironments(deps, principal, body.projectId),
  }));
  resourceEndpoint(app, deps, "/v2/environments.updateEnvironment", environmentBodies.updateEnvironment, 200, async (principal, body) => ({
    environment: await updateEnvironment(deps, principal, {
      projectId: body.projectId,
      environmentSlug: body.environmentSlug,
      ...settingsOf(body),
    }),
  }));
  resourceEndpoint(app, deps, "/v2/environments.deleteEnvironment", environmentBodies.deleteEnvironment, 200, async (principal, body) => {
    await deleteEnvironment(deps, principal, body);
    return {};
  });
}
