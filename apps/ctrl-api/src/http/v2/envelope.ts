import type { FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import { findProjectById, type Project } from "@ctrl/db";
import { bearerToken, principalFromRootKey, projectAccessRefusal, type AuthRefusal, type RootKeyPrincipal } from "../../principal.js";
import type { ApiDeps } from "../../deps.js";

/** One problem with a request body field. */
export interface FieldError {
  location: string;
  message: string;
}

/** A public API failure, rendered as the error envelope (docs/architecture.md section 5). */
export class HttpApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
  ) {
    super(detail);
  }
}

const types: Record<number, string> = {
  400: "https://ctrl.dev/docs/errors/bad_request",
  401: "https://ctrl.dev/docs/errors/unauthorized",
  403: "https://ctrl.dev/docs/errors/forbidden",
  404: "https://ctrl.dev/docs/errors/not_found",
  409: "https://ctrl.dev/docs/errors/conflict",
  412: "https://ctrl.dev/docs/errors/precondition_failed",
  500: "https://ctrl.dev/docs/errors/internal_server_error",
  503: "https://ctrl.dev/docs/errors/service_unavailable",
};

/** Sends `{meta:{requestId}, data}` with `status`. */
export function sendData(req: FastifyRequest, reply: FastifyReply, status: number, data: unknown): FastifyReply {
  return reply.status(status).send({ meta: { requestId: req.id }, data });
}

/** Sends the error envelope for `err`. */
export function sendError(req: FastifyRequest, reply: FastifyReply, err: HttpApiError): FastifyReply {
  const error: Record<string, unknown> = {
    title: err.title,
    detail: err.detail,
    status: err.status,
    type: types[err.status] ?? types[500],
  };
  if (err.errors?.length) error.errors = err.errors;
  return reply.status(err.status).send({ meta: { requestId: req.id }, error });
}

/** 400 with `errors[]`, one per zod issue, each naming the field (`body.projectId`). */
export function bodyError(issues: readonly z.core.$ZodIssue[]): HttpApiError {
  const errors = issues.map((i) => ({ location: ["body", ...i.path.map(String)].join("."), message: i.message }));
  return new HttpApiError(
    400,
    "Bad Request",
    errors.length === 1 ? `${errors[0]!.location}: ${errors[0]!.message}` : "The request body is invalid.",
    errors,
  );
}

/** Parses the raw JSON body (fastify hands us a string) against `schema`, or throws a 400. */
export function parseBody<S extends z.ZodType>(raw: unknown, schema: S): z.infer<S> {
  let value: unknown = raw;
  if (typeof raw === "string" || raw === undefined || raw === null) {
    const text = typeof raw === "string" ? raw : "";
    if (text.trim() === "")
      throw new HttpApiError(400, "Bad Request", "The request body is empty; send a JSON object.", [
        { location: "body", message: "required" },
      ]);
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new HttpApiError(400, "Bad Request", `The request body is not valid JSON: ${(err as Error).message}`, [
        { location: "body", message: "invalid JSON" },
      ]);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw bodyError(parsed.error.issues);
  return parsed.data;
}

/** What a refusal's body needs from its call site. */
interface RefusalContext {
  /** The 404 detail of the thing the caller asked for (`Project proj_… does not exist.`). */
  notFoundDetail: string;
}

/**
 * The public API's rendering of every refusal: one status, title and detail per reason. Only root
 * keys are accepted here, so an operator, agent or frontline token is an unknown credential (401).
 */
const httpRefusals: {
  [R in AuthRefusal["reason"]]: (refusal: Extract<AuthRefusal, { reason: R }>, ctx: RefusalContext) => [number, string, string];
} = {
  bad_header: (r) => [400, "Bad Request", r.problem],
  unknown_credential: () => [401, "Unauthorized", "The root key is invalid, expired or revoked."],
  unauthenticated: () => [401, "Unauthorized", "The root key is invalid, expired or revoked."],
  wrong_service: (r) => [403, "Forbidden", r.problem],
  not_a_project_principal: (r) => [403, "Forbidden", `This ${r.principalKind} credential cannot act on projects; use a root key.`],
  project_not_found: (_, ctx) => [404, "Not Found", ctx.notFoundDetail],
  missing_permission: (r) => [
    403,
    "Forbidden",
    `The root key lacks the permission project.${r.projectId}.${r.action} (or project.*.${r.action}).`,
  ],
};

/** The error envelope of a refusal. */
export function httpErrorOf(refusal: AuthRefusal, ctx: RefusalContext = { notFoundDetail: "Not found." }): HttpApiError {
  const render = httpRefusals[refusal.reason] as (r: AuthRefusal, c: RefusalContext) => [number, string, string];
  const [status, title, detail] = render(refusal, ctx);
  return new HttpApiError(status, title, detail);
}

/**
 * Authenticates the root key of a public API request: 400 for a missing or malformed
 * Authorization header, 401 for a key that does not exist.
 */
export async function authenticateRootKey(deps: ApiDeps, req: FastifyRequest): Promise<RootKeyPrincipal> {
  return rootKeyPrincipalOr401(deps, requireBearerToken(req));
}

/** The bearer token of a public API request, or a 400 for a missing or malformed Authorization header. */
export function requireBearerToken(req: FastifyRequest): string {
  const header = req.headers.authorization;
  const bearer = bearerToken(Array.isArray(header) ? header[0] : header);
  if (!bearer.ok) throw httpErrorOf(bearer.refusal);
  return bearer.token;
}

/** The principal of the live root key `token`, or a 401. */
export async function rootKeyPrincipalOr401(deps: ApiDeps, token: string): Promise<RootKeyPrincipal> {
  const authenticated = await principalFromRootKey(deps.db, token, (deps.now ?? Date.now)());
  if (!authenticated.ok) throw httpErrorOf(authenticated.refusal);
  return authenticated.principal;
}

/**
 * Loads a project the key may act on: 404 when it is missing or belongs to another workspace
 * (the same body either way), 403 when the key lacks `project.<id|*>.<action>`.
 */
export async function authorizeProject(deps: ApiDeps, principal: RootKeyPrincipal, projectId: string, action: string): Promise<Project> {
  return checkProjectAccess(principal, await loadProject(deps, projectId), projectId, action);
}

/** The project with `projectId`, whoever owns it (undefined when missing); pair with {@link checkProjectAccess}. */
export function loadProject(deps: ApiDeps, projectId: string): Promise<Project | undefined> {
  return findProjectById(deps.db, projectId);
}

/** The access rules of {@link authorizeProject} for an already loaded project: 404 (missing or foreign), 403. */
export function checkProjectAccess(principal: RootKeyPrincipal, project: Project | undefined, projectId: string, action: string): Project {
  const refusal = projectAccessRefusal(principal, project, action);
  if (refusal || !project)
    throw httpErrorOf(refusal ?? { reason: "project_not_found" }, { notFoundDetail: `Project ${projectId} does not exist.` });
  return project;
}
