import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { findRootKey, hasProjectPermission, type Db } from "@ctrl/db";
import { timingSafeEqual } from "node:crypto";
import { CtrlService } from "@ctrl/proto";

/** Who is calling: the internal token (agents, operators) or a workspace's root key. */
export type Principal =
  | { kind: "internal" }
  | { kind: "root_key"; keyId: string; workspaceId: string; permissions: string[] };

/** The authenticated caller of a Connect request (set by {@link authInterceptor}). */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "authenticated principal" });

/** Outcome of parsing an Authorization header. */
export type BearerParse = { ok: true; token: string } | { ok: false; problem: string };

/** Parses `Authorization: Bearer <token>` and says precisely what is wrong when it is not. */
export function parseBearer(header: string | null | undefined): BearerParse {
  if (header === null || header === undefined || header === "") return { ok: false, problem: "missing Authorization header: send 'Authorization: Bearer <token>'" };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return { ok: false, problem: "malformed Authorization header: expected 'Bearer <token>'" };
  return { ok: true, token: match[1]! };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Resolves a bearer token to a principal, or undefined when no token or key matches. */
export async function authenticate(db: Db, apiToken: string, token: string, now: number): Promise<Principal | undefined> {
  if (sameSecret(token, apiToken)) return { kind: "internal" };
  const key = await findRootKey(db, token, now);
  if (!key) return undefined;
  return { kind: "root_key", keyId: key.id, workspaceId: key.workspace_id, permissions: JSON.parse(key.permissions) as string[] };
}

/**
 * Requires a bearer token on every service except `CtrlService` (liveness). Errors are
 * `unauthenticated` with a message saying what was wrong.
 */
export function authInterceptor(db: Db, apiToken: string, now: () => number): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName === CtrlService.typeName) return next(req);
    const bearer = parseBearer(req.header.get("authorization"));
    if (!bearer.ok) throw new ConnectError(bearer.problem, Code.Unauthenticated);
    const principal = await authenticate(db, apiToken, bearer.token, now());
    if (!principal) throw new ConnectError("invalid bearer token: no API token or root key matches", Code.Unauthenticated);
    req.contextValues.set(principalKey, principal);
    return next(req);
  };
}

/**
 * Checks that `principal` may act on `project` (which belongs to `projectWorkspaceId`). A project of
 * another workspace is reported as not found, indistinguishable from a missing one.
 */
export function requireProjectAccess(principal: Principal | undefined, project: { id: string; workspace_id: string } | undefined, action: string, notFoundMessage: string): void {
  if (!principal) throw new ConnectError("unauthenticated", Code.Unauthenticated);
  if (!project) throw new ConnectError(notFoundMessage, Code.NotFound);
  if (principal.kind === "internal") return;
  if (principal.workspaceId !== project.workspace_id) throw new ConnectError(notFoundMessage, Code.NotFound);
  if (!hasProjectPermission(principal.permissions, project.id, action)) {
    throw new ConnectError(`permission denied: the key lacks project.${project.id}.${action}`, Code.PermissionDenied);
  }
}
