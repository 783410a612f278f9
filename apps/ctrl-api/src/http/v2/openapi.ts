import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { addSchema as addCustomDomainBody, domainSchema as customDomainBody } from "./add-custom-domain.js";
import { bodySchema as createDeploymentBody } from "./create-deployment.js";
import { bodySchema as generateUploadUrlBody } from "./generate-upload-url.js";
import { bodySchema as getDeploymentBody } from "./get-deployment.js";
import { bodySchema as rolloutControlBody } from "./rollout-control.js";

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

/** The response bodies (`data` of the envelope) of the public endpoints, by name. */
export const responseSchemas = {
  uploadUrl: z.object({ uploadUrl: z.string(), context: z.string() }),
  deploymentCreated: z.object({ deploymentId: z.string() }),
  deployment: deploymentSchema,
  customDomain: customDomainSchema,
  rollout: z.object({ rollout: rolloutSchema }),
};

/** One documented `POST /v2/…` endpoint: the body schema its handler parses with and what it answers. */
export interface EndpointDoc {
  path: string;
  summary: string;
  /** `project.<id>.<action>` the root key needs. */
  permission: string;
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
        description: `Permission: project.<projectId>.${e.permission} (or project.*.${e.permission}).`,
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
