import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { findAgentCredential, findRootKey, hasProjectPermission, type AgentCredential, type Db } from "@ctrl/db";
import { timingSafeEqual } from "node:crypto";
import { AcmeService, ClusterService, CtrlService } from "@ctrl/proto";

/**
 * Who is calling (docs/architecture.md §7, docs/security.md):
 * - `operator`: CTRL_OPERATOR_TOKEN — fleet operations across workspaces; never ClusterService.
 * - `agent`: a krane agent's credential (`agent_credentials`) — ClusterService of its region only.
 * - `frontline`: CTRL_FRONTLINE_TOKEN — AcmeService lookups only.
 * - `root_key`: a workspace's root key — its own projects.
 */
export type Principal =
  | { kind: "operator" }
  | ({ kind: "agent"; credentialId: string } & Pick<AgentCredential, "region" | "advertiseHosts" | "ports">)
  | { kind: "frontline" }
  | { kind: "root_key"; keyId: string; workspaceId: string; permissions: string[] };

/** The secrets ctrl-api compares bearer tokens with (from its config; never defaulted). */
export interface ServiceTokens {
  operatorToken: string;
  frontlineToken: string;
}

/** The authenticated caller of a Connect request (set by {@link authInterceptor}). */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "authenticated principal" });

/** Outcome of parsing an Authorization header. */
export type BearerParse = { ok: true; token: string } | { ok: false; problem: string };

/** Parses `Authorization: Bearer <token>` and says precisely what is wrong when it is not. */
export function parseBearer(header: string | null | undefined): BearerParse {
  if (header === null || header === undefined || header === "")
    return { ok: false, problem: "missing Authorization header: send 'Authorization: Bearer <token>'" };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return { ok: false, problem: "malformed Authorization header: expected 'Bearer <token>'" };
  return { ok: true, token: match[1]! };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Resolves a bearer token to a principal, or undefined when no token, credential or key matches. */
export async function authenticate(db: Db, tokens: ServiceTokens, token: string, now: number): Promise<Principal | undefined> {
  if (sameSecret(token, tokens.operatorToken)) return { kind: "operator" };
  if (sameSecret(token, tokens.frontlineToken)) return { kind: "frontline" };
  const agent = await findAgentCredential(db, token);
  if (agent)
    return { kind: "agent", credentialId: agent.id, region: agent.region, advertiseHosts: agent.advertiseHosts, ports: agent.ports };
  const key = await findRootKey(db, token, now);
  if (!key) return undefined;
  return { kind: "root_key", keyId: key.id, workspaceId: key.workspace_id, permissions: JSON.parse(key.permissions) as string[] };
}

/**
 * Which principal may call which service, checked once for every call before any handler runs, so
 * a new method cannot forget it. `undefined` = allowed; otherwise the `permission_denied` message.
 */
export function serviceRefusal(principal: Principal, serviceTypeName: string): string | undefined {
  const cluster = serviceTypeName === ClusterService.typeName;
  const acme = serviceTypeName === AcmeService.typeName;
  switch (principal.kind) {
    case "agent":
      return cluster ? undefined : `an agent credential may only call ${ClusterService.typeName}`;
    case "frontline":
      return acme ? undefined : `the frontline credential may only call ${AcmeService.typeName}`;
    case "operator":
      return cluster
        ? `${ClusterService.typeName} is for agents: the operator token is not accepted; use the agent's own credential (ctrl-db agent-credential create)`
        : undefined;
    case "root_key":
      if (cluster) return `${ClusterService.typeName} is for agents: use an agent credential, not a root key`;
      if (acme) return `${AcmeService.typeName} is for frontline: use its credential, not a root key`;
      return undefined;
  }
}

/**
 * Requires a bearer token on every service except `CtrlService` (liveness), then the per-kind
 * service policy of {@link serviceRefusal}. Errors are `unauthenticated` (no or unknown token) or
 * `permission_denied` (known token, wrong service), with a message saying what was wrong.
 */
export function authInterceptor(db: Db, tokens: ServiceTokens, now: () => number): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName === CtrlService.typeName) return next(req);
    const bearer = parseBearer(req.header.get("authorization"));
    if (!bearer.ok) throw new ConnectError(bearer.problem, Code.Unauthenticated);
    const principal = await authenticate(db, tokens, bearer.token, now());
    if (!principal)
      throw new ConnectError(
        "invalid bearer token: no service token, agent credential or root key matches (revoked credentials are refused)",
        Code.Unauthenticated,
      );
    const refusal = serviceRefusal(principal, req.service.typeName);
    if (refusal) throw new ConnectError(refusal, Code.PermissionDenied);
    req.contextValues.set(principalKey, principal);
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
  if (!principal) throw new ConnectError("unauthenticated", Code.Unauthenticated);
  if (principal.kind === "agent" || principal.kind === "frontline")
    throw new ConnectError(`a ${principal.kind} credential cannot act on projects`, Code.PermissionDenied);
  if (!project) throw new ConnectError(notFoundMessage, Code.NotFound);
  if (principal.kind === "operator") return;
  if (principal.workspaceId !== project.workspace_id) throw new ConnectError(notFoundMessage, Code.NotFound);
  if (!hasProjectPermission(principal.permissions, project.id, action)) {
    throw new ConnectError(`permission denied: the key lacks project.${project.id}.${action}`, Code.PermissionDenied);
  }
}
