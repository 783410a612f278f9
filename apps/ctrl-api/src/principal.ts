import { findAgentCredential, findRootKey, hasProjectPermission, type AgentCredential, type Db } from "@ctrl/db";
import { AcmeService, ClusterService } from "@ctrl/proto";
import { timingSafeEqual } from "node:crypto";

/**
 * Who is calling (ARCHITECTURE.md §7, docs/security.md):
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

/** A workspace root key's principal: all the public `/v2` API accepts. */
export type RootKeyPrincipal = Extract<Principal, { kind: "root_key" }>;

/**
 * Why a request is refused, before any surface renders it: the Connect interceptor maps each reason
 * to a code and message (auth.ts), the `/v2` API to a status and body (http/v2/envelope.ts).
 */
export type AuthRefusal =
  /** No, or no well-formed, `Authorization: Bearer <token>` header; `problem` says which. */
  | { reason: "bad_header"; problem: string }
  /** A token that no accepted credential matches (unknown, expired or revoked). */
  | { reason: "unknown_credential" }
  /** A known credential calling a service that is not its own; `problem` names the right one. */
  | { reason: "wrong_service"; problem: string }
  /** A project check without an authenticated caller. */
  | { reason: "unauthenticated" }
  /** An agent or frontline credential acting on a project. */
  | { reason: "not_a_project_principal"; principalKind: "agent" | "frontline" }
  /** The project is missing or belongs to another workspace (never say which). */
  | { reason: "project_not_found" }
  /** A root key of the workspace without `project.<id|*>.<action>`. */
  | { reason: "missing_permission"; projectId: string; action: string };

/** A principal, or why there is none. */
export type Authenticated<P extends Principal = Principal> = { ok: true; principal: P } | { ok: false; refusal: AuthRefusal };

/** The secrets ctrl-api compares bearer tokens with (from its config; never defaulted). */
export interface ServiceTokens {
  operatorToken: string;
  frontlineToken: string;
}

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

/** The bearer token of a header, or the `bad_header` refusal. */
export function bearerToken(header: string | null | undefined): { ok: true; token: string } | { ok: false; refusal: AuthRefusal } {
  const bearer = parseBearer(header);
  return bearer.ok ? bearer : { ok: false, refusal: { reason: "bad_header", problem: bearer.problem } };
}

/** The one place a root key string becomes a principal: a live key of its workspace, with its permissions. */
export async function principalFromRootKey(db: Db, rootKey: string, now: number): Promise<Authenticated<RootKeyPrincipal>> {
  const key = await findRootKey(db, rootKey, now);
  if (!key) return { ok: false, refusal: { reason: "unknown_credential" } };
  return {
    ok: true,
    principal: { kind: "root_key", keyId: key.id, workspaceId: key.workspace_id, permissions: JSON.parse(key.permissions) as string[] },
  };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Resolves a bearer token to a principal: the operator token, frontline's token, an agent
 * credential, then a root key, in that order. `unknown_credential` when none matches.
 */
export async function authenticate(db: Db, tokens: ServiceTokens, token: string, now: number): Promise<Authenticated> {
  if (sameSecret(token, tokens.operatorToken)) return { ok: true, principal: { kind: "operator" } };
  if (sameSecret(token, tokens.frontlineToken)) return { ok: true, principal: { kind: "frontline" } };
  const agent = await findAgentCredential(db, token);
  if (agent)
    return {
      ok: true,
      principal: { kind: "agent", credentialId: agent.id, region: agent.region, advertiseHosts: agent.advertiseHosts, ports: agent.ports },
    };
  return principalFromRootKey(db, token, now);
}

/**
 * Which principal may call which service, checked once for every call before any handler runs, so
 * a new method cannot forget it. `undefined` = allowed; otherwise the `wrong_service` refusal.
 */
export function serviceRefusal(principal: Principal, serviceTypeName: string): AuthRefusal | undefined {
  const problem = serviceProblem(principal, serviceTypeName);
  return problem === undefined ? undefined : { reason: "wrong_service", problem };
}

function serviceProblem(principal: Principal, serviceTypeName: string): string | undefined {
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
 * Whether `principal` may `action` on `project` (which belongs to `workspace_id`); `undefined` =
 * allowed. A project of another workspace is refused exactly like a missing one, and before the
 * permission is looked at. The operator acts on every workspace; agents and frontline on none.
 */
export function projectAccessRefusal(
  principal: Principal | undefined,
  project: { id: string; workspace_id: string } | undefined,
  action: string,
): AuthRefusal | undefined {
  if (!principal) return { reason: "unauthenticated" };
  if (principal.kind === "agent" || principal.kind === "frontline")
    return { reason: "not_a_project_principal", principalKind: principal.kind };
  if (!project) return { reason: "project_not_found" };
  if (principal.kind === "operator") return undefined;
  if (principal.workspaceId !== project.workspace_id) return { reason: "project_not_found" };
  if (!hasProjectPermission(principal.permissions, project.id, action))
    return { reason: "missing_permission", projectId: project.id, action };
  return undefined;
}
