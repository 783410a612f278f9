import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { principalKey, type Principal } from "../../auth.js";

/** Header in which an agent may name its region; it must equal the credential's region. */
export const regionHeader = "x-krane-region";

/** The agent principal of a ClusterService call. */
export type AgentPrincipal = Extract<Principal, { kind: "agent" }>;

/**
 * ClusterService is for agents: only an agent credential may call it (the interceptor already
 * refuses every other kind with `permission_denied`; this is the handler's own guard and gives it
 * the credential). A missing or unknown token is `unauthenticated`, from the interceptor.
 */
export function requireAgent(ctx: HandlerContext): AgentPrincipal {
  const principal = ctx.values.get(principalKey);
  if (!principal) throw new ConnectError("unauthenticated", Code.Unauthenticated);
  if (principal.kind !== "agent") throw new ConnectError("ClusterService is for agents: use an agent credential", Code.PermissionDenied);
  return principal;
}

/** A region the caller named must be its credential's; a different one is refused, never followed. */
function sameRegion(agent: AgentPrincipal, named: string | undefined, where: string): void {
  if (named && named !== agent.region) {
    throw new ConnectError(
      `${where} "${named.slice(0, 64)}" is not this credential's region "${agent.region}": an agent credential is bound to one region`,
      Code.PermissionDenied,
    );
  }
}

/**
 * The region of a unary call: always the credential's. `X-Krane-Region`, when sent, must agree
 * (`permission_denied` otherwise): the header is a consistency check, never a source of authority.
 */
export function regionOfUnary(ctx: HandlerContext, agent: AgentPrincipal): string {
  sameRegion(agent, ctx.requestHeader.get(regionHeader)?.trim(), `the ${regionHeader} header`);
  return agent.region;
}

/**
 * The region of a Watch stream: the credential's. The request's `region` and the header may be
 * empty (then the credential's is used) or must equal it (`permission_denied` otherwise).
 */
export function regionOfWatch(ctx: HandlerContext, agent: AgentPrincipal, requested: string): string {
  sameRegion(agent, requested.trim(), "region");
  return regionOfUnary(ctx, agent);
}

/**
 * Checks a reported address against the credential: `host:port` (IPv6 as `[addr]:port`) with the
 * host one of its advertise hosts and the port inside its range, so a report can never point
 * frontline or a sentinel at a control-plane port. Empty (no address yet) is allowed.
 * `invalid_argument` naming the field and the address otherwise.
 */
export function checkReportedAddress(agent: AgentPrincipal, address: string, field: string): void {
  if (address === "") return;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(address);
  const shown = JSON.stringify(address.slice(0, 100));
  if (!m) throw new ConnectError(`${field} ${shown} must be host:port`, Code.InvalidArgument);
  const host = (m[1] ?? m[2])!;
  const port = Number(m[3]);
  if (!agent.advertiseHosts.includes(host)) {
    throw new ConnectError(
      `${field} ${shown}: host ${host} is not an advertise host of this agent credential (${agent.advertiseHosts.join(", ")})`,
      Code.InvalidArgument,
    );
  }
  if (port < agent.ports.low || port > agent.ports.high) {
    throw new ConnectError(
      `${field} ${shown}: port ${port} is outside this agent credential's port range ${agent.ports.low}-${agent.ports.high}`,
      Code.InvalidArgument,
    );
  }
}
