import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import type { Db } from "@ctrl/db";
import { CtrlService } from "@ctrl/proto";
import {
  authenticate,
  bearerToken,
  projectAccessRefusal,
  serviceRefusal,
  type AuthRefusal,
  type Principal,
  type ServiceTokens,
} from "./principal.js";

export { parseBearer, serviceRefusal, type BearerParse, type Principal, type ServiceTokens } from "./principal.js";

/** The authenticated caller of a Connect request (set by {@link authInterceptor}). */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "authenticated principal" });

/** What a refusal's message needs from its call site. */
interface RefusalContext {
  /** The `not_found` message of the thing the caller asked for (`deployment d_… not found`). */
  notFoundMessage: string;
}

/** The Connect surface's rendering of every refusal: one code and message per reason. */
const connectRefusals: {
  [R in AuthRefusal["reason"]]: (refusal: Extract<AuthRefusal, { reason: R }>, ctx: RefusalContext) => [Code, string];
} = {
  bad_header: (r) => [Code.Unauthenticated, r.problem],
  unknown_credential: () => [
    Code.Unauthenticated,
    "invalid bearer token: no service token, agent credential or root key matches (revoked credentials are refused)",
  ],
  wrong_service: (r) => [Code.PermissionDenied, r.problem],
  unauthenticated: () => [Code.Unauthenticated, "unauthenticated"],
  not_a_project_principal: (r) => [Code.PermissionDenied, `a ${r.principalKind} credential cannot act on projects`],
  project_not_found: (_, ctx) => [Code.NotFound, ctx.notFoundMessage],
  missing_permission: (r) => [Code.PermissionDenied, `permission denied: the key lacks project.${r.projectId}.${r.action}`],
};

/** The ConnectError of a refusal. */
export function connectErrorOf(refusal: AuthRefusal, ctx: RefusalContext = { notFoundMessage: "not found" }): ConnectError {
  const render = connectRefusals[refusal.reason] as (r: AuthRefusal, c: RefusalContext) => [Code, string];
  const [code, message] = render(refusal, ctx);
  return new ConnectError(message, code);
}

/**
 * Requires a bearer token on every service except `CtrlService` (liveness), then the per-kind
 * service policy of {@link serviceRefusal}. Errors are `unauthenticated` (no or unknown token) or
 * `permission_denied` (known token, wrong service), with a message saying what was wrong.
 */
export function authInterceptor(db: Db, tokens: ServiceTokens, now: () => number): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName === CtrlService.typeName) return next(req);
    const bearer = bearerToken(req.header.get("authorization"));
    if (!bearer.ok) throw connectErrorOf(bearer.refusal);
    const authenticated = await authenticate(db, tokens, bearer.token, now());
    if (!authenticated.ok) throw connectErrorOf(authenticated.refusal);
    const refusal = serviceRefusal(authenticated.principal, req.service.typeName);
    if (refusal) throw connectErrorOf(refusal);
    req.contextValues.set(principalKey, authenticated.principal);
    return next(req);
  };
}

/**
 * Checks that `principal` may act on `project` (which belongs to `projectWorkspaceId`). A project of
 * another workspace is reported as not found, indistinguishable from a missing one. The operator acts
 * on every workspace; agents and frontline on none (the interceptor keeps them out already).
 */
export function requireProjectAccess(
  principal: Principal | undefined,
  project: { id: string; workspace_id: string } | undefined,
  action: string,
  notFoundMessage: string,
): void {
  const refusal = projectAccessRefusal(principal, project, action);
  if (refusal) throw connectErrorOf(refusal, { notFoundMessage });
}
