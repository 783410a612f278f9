// Long because it documents every /v2 endpoint in one list, which the OpenAPI test compares with the registered routes.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import {
  addSchema as addCustomDomainBody,
  domainSchema as customDomainBody,
  listSchema as listCustomDomainsBody,
} from "./add-custom-domain.js";
import { bodySchema as createDeploymentBody } from "./create-deployment.js";
import { environmentBodies } from "./environments.js";
import { bodySchema as generateUploadUrlBody } from "./generate-upload-url.js";
import { bodySchema as getDeploymentBody } from "./get-deployment.js";
import { cancelSchema as cancelDeploymentBody, deploymentSchema as deploymentIdBody, redeploySchema as redeployBody } from "./lifecycle.js";
import { projectBodies } from "./projects.js";
import { bodySchema as rolloutControlBody } from "./rollout-control.js";
import { rootKeyBodies } from "./root-keys.js";
import { listSchema as listVariablesBody, setSchema as setVariablesBody, unsetSchema as unsetVariablesBody } from "./variables.js";

/** The error envelope's `error` (docs/architecture.md section 5). */
const errorSchema = z.object({
  title: z.string(),
  detail: z.string(),
  status: z.number().int(),
  type: z.string(),
  errors: z.array(z.object({ location: z.string(), message: z.string() })).optional(),
});
const meta = z.object({ requestId: z.string() });

const deploymentStatus = z.enum(["UNSPECIFIED", "PENDING", "BUILDING", "DEPLOYING", "READY", "FAILED", "CANCELLED"]);
const rolloutSchema = z.object({
  deploymentId: z.string(),
  strategy: z.string(),
  state: z.string(),
  controlState: z.string(),
  completedTargets: z.array(z.string()),
  failedTargets: z.array(z.string()),
  remainingTargets: z.array(z.string()),
  failureDetails: z.array(
    z.object({ target: z.string(), kind: z.string(), message: z.string(), observed: z.record(z.string(), z.number()) }),
  ),
  targets: z.array(z.object({ region: z.string(), state: z.string(), weight: z.number(), startedAt: z.number(), cutOverAt: z.number() })),
  checkpoint: z.object({ batchIndex: z.number(), batchCount: z.number(), stepIndex: z.number(), updatedAt: z.number() }),
  policy: z.object({
    strategy: z.string(),
    parallelism: z.number(),
    delayBetweenBatches: z.string(),
    failureAction: z.string(),
    healthCheckTimeout: z.string(),
    canarySteps: z.array(z.object({ weight: z.number(), pause: z.string() })),
    analysis: z
      .object({ interval: z.string(), window: z.string(), maxErrorRate: z.number(), maxP99LatencyMs: z.number(), minRequests: z.number() })
      .optional(),
  }),
  previousDeploymentId: z.string(),
  lastAnalysis: z
    .object({
      region: z.string(),
      verdict: z.string(),
      requests: z.number(),
      errorRate: z.number(),
      p99LatencyMs: z.number(),
      breaches: z.array(z.string()),
      measuredAt: z.number(),
    })
    .optional(),
  revision: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number(),
});
const deploymentSchema = z.object({
  id: z.string(),
  status: deploymentStatus,
  hostnames: z.array(z.string()).optional(),
  errorMessage: z.string().optional(),
  steps: z
    .array(
      z.object({
        step: z.string(),
        status: z.enum(["running", "completed", "failed", "skipped"]),
        message: z.string(),
        errorMessage: z.string().optional(),
        createdAt: z.number(),
        endedAt: z.number().optional(),
      }),
    )
    .optional(),
  rollout: rolloutSchema.optional(),
});
const customDomainSchema = z.object({
  id: z.string(),
  domain: z.string(),
  projectId: z.string(),
  environmentId: z.string(),
  challengeType: z.enum(["http-01", "dns-01"]),
  verificationStatus: z.enum(["pending_verification", "verified", "failed"]),
  verificationRecord: z.object({ name: z.string(), type: z.literal("TXT"), value: z.string() }),
  verificationError: z.string().optional(),
  verifiedAt: z.number().optional(),
  challengeStatus: z.enum(["waiting", "pending", "verified", "failed"]),
  state: z.enum(["pending_verification", "verification_failed", "issuing", "active", "certificate_failed"]),
  errorMessage: z.string().optional(),
  certificateExpiresAt: z.number().optional(),
});

/** resource-model/views.ts `ProjectView`. */
const projectSchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  name: z.string(),
  slug: z.string(),
  defaultBranch: z.string(),
  liveDeploymentId: z.string(),
  isRolledBack: z.boolean(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
/** resource-model/views.ts `EnvironmentView` (0 / "" / [] = the default). */
const environmentSchema = z.object({
  id: z.string(),
  projectId: z.string(),
  slug: z.string(),
  regions: z.array(z.string()),
  replicas: z.number().int(),
  cpuMillicores: z.number().int(),
  memoryMib: z.number().int(),
  healthCheckPath: z.string(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
/** resource-model/views.ts `RootKeyView`: never the secret (0 = never / not revoked). */
const rootKeySchema = z.object({
  id: z.string(),
  workspaceId: z.string(),
  name: z.string(),
  start: z.string(),
  permissions: z.array(z.string()),
  expiresAt: z.number(),
  revokedAt: z.number(),
  createdAt: z.number(),
});
const strings = z.array(z.string());

/** The response bodies (`data` of the envelope) of the public endpoints, by name. */
export const responseSchemas = {
  uploadUrl: z.object({ uploadUrl: z.string(), context: z.string() }),
  deploymentCreated: z.object({ deploymentId: z.string() }),
  deployment: deploymentSchema,
  customDomain: customDomainSchema,
  customDomains: z.object({ domains: z.array(customDomainSchema.extend({ routed: z.boolean() })) }),
  customDomainRemoved: z.object({ domain: z.string(), routesRemoved: z.number().int(), certificatesRemoved: z.number().int() }),
  rollout: z.object({ rollout: rolloutSchema }),
  projectWithEnvironments: z.object({ project: projectSchema, environments: z.array(environmentSchema) }),
  projects: z.object({ projects: z.array(projectSchema), nextPageToken: z.string() }),
  project: z.object({ project: projectSchema }),
  projectDeleted: z.object({ cancelledDeploymentIds: strings, stoppedDeploymentIds: strings }),
  environment: z.object({ environment: environmentSchema }),
  environments: z.object({ environments: z.array(environmentSchema) }),
  empty: z.object({}),
  rootKeyCreated: z.object({ key: rootKeySchema, secret: z.string() }),
  rootKeys: z.object({ keys: z.array(rootKeySchema) }),
  rootKey: z.object({ key: rootKeySchema }),
  variablesSet: z.object({ keys: strings, liveDeploymentId: z.string() }),
  variables: z.object({ variables: z.array(z.object({ key: z.string(), updatedAt: z.number(), value: z.string().optional() })) }),
  variablesUnset: z.object({ removed: strings, missing: strings }),
  /** `status` is the one the cancel was accepted in (a deploy that is not finished). */
  deploymentCancelled: z.object({ deploymentId: z.string(), status: z.enum(["pending", "building", "deploying"]) }),
  deploymentState: z.object({
    deploymentId: z.string(),
    desiredState: z.enum(["running", "standby"]),
    regions: strings,
    changedRegions: strings,
  }),
  deploymentDeleted: z.object({ deploymentId: z.string(), removedHostnames: strings, stoppedRegions: strings }),
  redeployed: z.object({ deploymentId: z.string(), sourceDeploymentId: z.string() }),
};

/** One documented `POST /v2/…` endpoint: the body schema its handler parses with and what it answers. */
export interface EndpointDoc {
  path: string;
  summary: string;
  /** The action the root key needs: `project.<id>.<action>`, or `workspace.<action>` for a workspace-level one. */
  permission: string;
  /** Where {@link permission} applies; `project` when absent. */
  permissionScope?: "project" | "workspace";
  /** Said after the permission in the description (e.g. how it filters or what else may be needed). */
  permissionNote?: string;
  body: z.ZodType;
  /** The success status and the `data` it carries. */
  success: { status: number; data: z.ZodType; description: string };
  /** Error statuses beyond the common 400/401/403/404, with what they mean. */
  errors?: Record<number, string>;
}

/**
 * Every public endpoint. A `/v2` route registered without an entry here is logged at start-up and
 * fails test/openapi.int.test.ts: add it here with the same zod schema its handler parses.
 */
export const publicEndpoints: EndpointDoc[] = [
  {
    path: "/v2/deploy.generateUploadUrl",
    summary: "A presigned URL to upload a build context (tar.gz) to",
    permission: "generate_upload_url",
    body: generateUploadUrlBody,
    success: {
      status: 200,
      data: responseSchemas.uploadUrl,
      description: "PUT the context to uploadUrl, then pass context to createDeployment",
    },
  },
  {
    path: "/v2/deploy.createDeployment",
    summary: "Creates a deployment from an uploaded context (build) or an image",
    permission: "create_deployment",
    body: createDeploymentBody,
    success: { status: 201, data: responseSchemas.deploymentCreated, description: "The deployment was created and its deploy started" },
    errors: { 409: "Conflict", 412: "A precondition failed (the detail says which)" },
  },
  {
    path: "/v2/deploy.getDeployment",
    summary: "A deployment's status, hostnames, steps and rollout",
    permission: "read_deployment",
    body: getDeploymentBody,
    success: { status: 200, data: responseSchemas.deployment, description: "The deployment" },
  },
  {
    path: "/v2/deploy.addCustomDomain",
    summary: "Attaches a custom domain; routed and certified once its TXT record is seen",
    permission: "add_custom_domain",
    body: addCustomDomainBody,
    success: { status: 201, data: responseSchemas.customDomain, description: "The domain, pending verification" },
    errors: { 409: "The domain is attached already or verified by another workspace" },
  },
  {
    path: "/v2/deploy.getCustomDomain",
    summary: "A custom domain's verification, certificate and routing state",
    permission: "read_custom_domain",
    body: customDomainBody,
    success: { status: 200, data: responseSchemas.customDomain, description: "The domain" },
  },
  {
    path: "/v2/deploy.retryCustomDomain",
    summary: "Looks for the TXT record again, or restarts a failed certificate",
    permission: "add_custom_domain",
    body: customDomainBody,
    success: { status: 200, data: responseSchemas.customDomain, description: "The domain" },
    errors: { 412: "Nothing to retry" },
  },
  ...(["pause", "resume", "cancel"] as const).map(
    (op): EndpointDoc => ({
      path: `/v2/deploy.${op}Rollout`,
      summary: `${op[0]!.toUpperCase()}${op.slice(1)}s a deployment's rollout`,
      permission: "rollout_deployment",
      body: rolloutControlBody,
      success: { status: 200, data: responseSchemas.rollout, description: "The rollout after the operation" },
      errors: { 409: "The rollout kept changing concurrently; retry", 412: "No rollout, or not allowed in its state" },
    }),
  ),
  {
    path: "/v2/deploy.listCustomDomains",
    summary: "A project's custom domains (or one environment's) with verification, certificate and routing state",
    permission: "read_custom_domain",
    body: listCustomDomainsBody,
    success: { status: 200, data: responseSchemas.customDomains, description: "The domains; routed says whether frontline serves one now" },
  },
  {
    path: "/v2/deploy.removeCustomDomain",
    summary: "Removes a custom domain: frontline stops routing it, its challenge and certificate are deleted",
    permission: "remove_custom_domain",
    body: customDomainBody,
    success: { status: 200, data: responseSchemas.customDomainRemoved, description: "What was removed" },
  },
  {
    path: "/v2/deploy.setVariables",
    summary: "Sets an environment's variables (encrypted); the next deployment gets them",
    permission: "write_variables",
    body: setVariablesBody,
    success: {
      status: 200,
      data: responseSchemas.variablesSet,
      description: "The keys set, and the live deployment that does not have them yet (empty when none)",
    },
    errors: { 412: "ctrl-api has no VAULT_MASTER_KEYS to encrypt with" },
  },
  {
    path: "/v2/deploy.listVariables",
    summary: "An environment's variables: names and update times, values only with reveal",
    permission: "read_variables",
    permissionNote: "With reveal: project.<projectId>.reveal_variables instead.",
    body: listVariablesBody,
    success: { status: 200, data: responseSchemas.variables, description: "The variables in key order" },
    errors: { 412: "reveal, but ctrl-api has no VAULT_MASTER_KEYS to decrypt with" },
  },
  {
    path: "/v2/deploy.unsetVariables",
    summary: "Removes an environment's variables by name; running deployments keep their snapshot",
    permission: "write_variables",
    body: unsetVariablesBody,
    success: { status: 200, data: responseSchemas.variablesUnset, description: "The names removed and those that did not exist" },
  },
  {
    path: "/v2/deploy.cancelDeployment",
    summary: "Cancels a running deploy: it stops at its next step and ends cancelled",
    permission: "cancel_deployment",
    body: cancelDeploymentBody,
    success: { status: 200, data: responseSchemas.deploymentCancelled, description: "The cancel was accepted" },
    errors: { 412: "The deploy has finished already" },
  },
  ...(
    [
      ["stop", "Puts a ready deployment that no longer serves its environment in standby in every region"],
      ["start", "Runs a stopped (standby) deployment again in every region"],
    ] as const
  ).map(
    ([op, summary]): EndpointDoc => ({
      path: `/v2/deploy.${op}Deployment`,
      summary,
      permission: "stop_deployment",
      body: deploymentIdBody,
      success: { status: 200, data: responseSchemas.deploymentState, description: "Its regions, and those whose desired state changed" },
      errors: { 412: op === "stop" ? "Not ready, or it still serves its environment" : "Not ready" },
    }),
  ),
  {
    path: "/v2/deploy.deleteDeployment",
    summary: "Archives a finished deployment that no longer serves: instances stopped, its routes removed",
    permission: "delete_deployment",
    body: deploymentIdBody,
    success: { status: 200, data: responseSchemas.deploymentDeleted, description: "The hostnames and regions it was removed from" },
    errors: { 412: "Its deploy is still running, or it serves" },
  },
  {
    path: "/v2/deploy.redeploy",
    summary: "A new deployment of a deployment's image (by default the one the environment's domain routes to)",
    permission: "create_deployment",
    body: redeployBody,
    success: { status: 201, data: responseSchemas.redeployed, description: "The new deployment and the one whose source it used" },
    errors: { 409: "Conflict", 412: "Nothing to redeploy (no deployment yet, or one without an image)" },
  },
  {
    path: "/v2/projects.createProject",
    summary: "Creates a project with the environments production and preview",
    permission: "create_project",
    permissionScope: "workspace",
    body: projectBodies.createProject,
    success: { status: 201, data: responseSchemas.projectWithEnvironments, description: "The project and its environments" },
    errors: { 409: "The slug is taken in the workspace" },
  },
  {
    path: "/v2/projects.getProject",
    summary: "A project with its environments",
    permission: "read_project",
    body: projectBodies.getProject,
    success: { status: 200, data: responseSchemas.projectWithEnvironments, description: "The project and its environments" },
  },
  {
    path: "/v2/projects.listProjects",
    summary: "The workspace's projects by slug, paged",
    permission: "read_project",
    permissionNote: "Lists only the projects the key may read; pass nextPageToken as pageToken for the next page (empty: the last one).",
    body: projectBodies.listProjects,
    success: { status: 200, data: responseSchemas.projects, description: "One page of projects" },
  },
  {
    path: "/v2/projects.updateProject",
    summary: "Changes a project's name or default branch (the fields given)",
    permission: "update_project",
    body: projectBodies.updateProject,
    success: { status: 200, data: responseSchemas.project, description: "The project after the change" },
  },
  {
    path: "/v2/projects.deleteProject",
    summary: "Deletes a project; with force it first cancels its deploys and stops what runs",
    permission: "delete_project",
    body: projectBodies.deleteProject,
    success: { status: 200, data: responseSchemas.projectDeleted, description: "The deploys it cancelled and the deployments it stopped" },
    errors: { 412: "A deploy is in progress or instances run (the detail names them); stop them or pass force" },
  },
  {
    path: "/v2/environments.createEnvironment",
    summary: "Creates an environment of a project with its settings",
    permission: "write_environment",
    body: environmentBodies.createEnvironment,
    success: { status: 201, data: responseSchemas.environment, description: "The environment" },
    errors: { 409: "The slug is taken in the project" },
  },
  {
    path: "/v2/environments.listEnvironments",
    summary: "A project's environments",
    permission: "read_environment",
    body: environmentBodies.listEnvironments,
    success: { status: 200, data: responseSchemas.environments, description: "The environments" },
  },
  {
    path: "/v2/environments.updateEnvironment",
    summary: 'Changes an environment\'s settings (absent = unchanged; 0, "" or [] = the default); the next deployment gets them',
    permission: "write_environment",
    body: environmentBodies.updateEnvironment,
    success: { status: 200, data: responseSchemas.environment, description: "The environment after the change" },
  },
  {
    path: "/v2/environments.deleteEnvironment",
    summary: "Deletes an environment with its routes, custom domains and variables",
    permission: "write_environment",
    body: environmentBodies.deleteEnvironment,
    success: { status: 200, data: responseSchemas.empty, description: "It was deleted" },
    errors: { 412: "It still runs deployments" },
  },
  {
    path: "/v2/keys.createRootKey",
    summary: "Creates a root key of the workspace; its secret is shown only in this answer",
    permission: "manage_keys",
    permissionScope: "workspace",
    permissionNote: "A key may only grant permissions it holds itself (403 otherwise).",
    body: rootKeyBodies.createRootKey,
    success: { status: 201, data: responseSchemas.rootKeyCreated, description: "The key and its secret" },
  },
  {
    path: "/v2/keys.listRootKeys",
    summary: "The workspace's root keys, newest first, without secrets",
    permission: "manage_keys",
    permissionScope: "workspace",
    body: rootKeyBodies.listRootKeys,
    success: { status: 200, data: responseSchemas.rootKeys, description: "The keys" },
  },
  {
    path: "/v2/keys.revokeRootKey",
    summary: "Revokes a root key: the next request with it is 401 (idempotent)",
    permission: "manage_keys",
    permissionScope: "workspace",
    body: rootKeyBodies.revokeRootKey,
    success: { status: 200, data: responseSchemas.rootKey, description: "The key, revoked" },
  },
];

const commonErrors: Record<number, string> = {
  400: "Bad body (errors[] names the field) or a missing or malformed Authorization header",
  401: "Unknown, expired or revoked root key",
  403: "The root key lacks the permission",
  404: "Not found (or in another workspace: the same answer)",
  503: "A dependency is unavailable for a moment; retry",
};

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" });
  return rest;
}

function permissionDescription(e: EndpointDoc): string {
  const needed =
    e.permissionScope === "workspace"
      ? `workspace.${e.permission} (or workspace.*)`
      : `project.<projectId>.${e.permission} (or project.*.${e.permission})`;
  return `Permission: ${needed}.${e.permissionNote ? ` ${e.permissionNote}` : ""}`;
}

const envelopeOf = (data: z.ZodType) => z.object({ meta, data });
const errorEnvelope = z.object({ meta, error: errorSchema });

/** The OpenAPI 3.1 document of `endpoints` (schemas inlined, JSON Schema 2020-12 as 3.1 specifies). */
export function openApiDocument(endpoints: EndpointDoc[] = publicEndpoints): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const e of endpoints) {
    const responses: Record<string, unknown> = {
      [String(e.success.status)]: {
        description: e.success.description,
        content: { "application/json": { schema: jsonSchema(envelopeOf(e.success.data), "output") } },
      },
    };
    for (const [status, description] of Object.entries({ ...commonErrors, ...e.errors, 500: "Internal error (quote meta.requestId)" }))
      responses[status] = { description, content: { "application/json": { schema: jsonSchema(errorEnvelope, "output") } } };
    paths[e.path] = {
      post: {
        operationId: e.path.replace(/^\/v2\//, ""),
        summary: e.summary,
        description: permissionDescription(e),
        requestBody: { required: true, content: { "application/json": { schema: jsonSchema(e.body, "input") } } },
        responses,
      },
    };
  }
  paths["/v2/openapi.json"] = {
    get: {
      operationId: "openapi",
      summary: "This document",
      security: [],
      responses: { "200": { description: "The OpenAPI 3.1 document of the public API", content: { "application/json": {} } } },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "ctrl public API",
      version: "2",
      description: "Every endpoint takes and returns JSON in the envelope {meta:{requestId}, data|error}.",
    },
    components: { securitySchemes: { rootKey: { type: "http", scheme: "bearer", description: "A workspace root key" } } },
    security: [{ rootKey: [] }],
    paths,
  };
}

const routesByApp = new WeakMap<FastifyInstance, string[]>();

/** The `METHOD /v2/…` routes registered on `app` by the public API (what the OpenAPI test compares). */
export function registeredPublicRoutes(app: FastifyInstance): string[] {
  return routesByApp.get(app) ?? [];
}

/**
 * Serves `GET /v2/openapi.json` (no key needed: it documents, it does not reveal) and records every
 * route `scope` registers; one without an entry in {@link publicEndpoints} is logged as undocumented.
 */
export function registerOpenApi(app: FastifyInstance, scope: FastifyInstance): void {
  const routes: string[] = [];
  routesByApp.set(app, routes);
  const documented = new Set(publicEndpoints.map((e) => `POST ${e.path}`));
  scope.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) {
      const key = `${method} ${route.url}`;
      if (method === "HEAD") continue;
      routes.push(key);
      if (method === "POST" && !documented.has(key)) app.log.warn({ route: key }, "public route missing from http/v2/openapi.ts");
    }
  });
  let document: string | undefined;
  scope.get("/v2/openapi.json", async (_req, reply) => {
    document ??= JSON.stringify(openApiDocument());
    return reply.type("application/json").send(document);
  });
}
