import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { principalKey } from "../../auth.js";

/** Header that names the agent's region on unary ClusterService calls. */
export const regionHeader = "x-krane-region";

const regionPattern = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * ClusterService is for agents: only the internal token (CTRL_API_TOKEN) may call it. A root key is
 * authenticated but scoped to one workspace, and a region's stream spans workspaces, so it gets
 * `permission_denied`. (A missing or unknown token is `unauthenticated`, from the interceptor.)
 */
export function requireAgent(ctx: HandlerContext): void {
  const principal = ctx.values.get(principalKey);
  if (!principal) throw new ConnectError("unauthenticated", Code.Unauthenticated);
  if (principal.kind !== "internal") throw new ConnectError("ClusterService is for agents: use the internal API token, not a root key", Code.PermissionDenied);
}

function checkRegion(region: string, where: string): string {
  if (!regionPattern.test(region)) throw new ConnectError(`${where} must be a region name of 1-64 characters [A-Za-z0-9._-]`, Code.InvalidArgument);
  return region;
}

/**
 * The reporting agent's region from `X-Krane-Region`, required on unary calls. A missing or
 * malformed header is `invalid_argument` (the caller is authenticated; its request is incomplete).
 */
export function regionOfUnary(ctx: HandlerContext): string {
  const header = ctx.requestHeader.get(regionHeader)?.trim();
  if (!header) throw new ConnectError(`the ${regionHeader} header is required: send the agent's region`, Code.InvalidArgument);
  return checkRegion(header, `the ${regionHeader} header`);
}

/**
 * The region of a Watch stream: the request's `region` (required). When the agent also sends the
 * header, both must agree, so a misconfigured agent cannot mix two regions' state.
 */
export function regionOfWatch(ctx: HandlerContext, requested: string): string {
  const region = requested.trim();
  if (!region) throw new ConnectError("region is required", Code.InvalidArgument);
  checkRegion(region, "region");
  const header = ctx.requestHeader.get(regionHeader)?.trim();
  if (header && header !== region) throw new ConnectError(`region "${region}" differs from the ${regionHeader} header "${header}"`, Code.InvalidArgument);
  return region;
}
