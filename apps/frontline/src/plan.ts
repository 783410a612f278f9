import { isOriginForm, normalizeHost, notOriginFormMessage } from "@ctrl/proxy";
import type { FrontlineHttpsRedirect } from "./frontline.js";
import type { RouteSnapshot } from "./route-table.js";
import { applySplit } from "./traffic-split.js";

/**
 * Where frontline sends a routed request: always the environment's sentinel, always straight to the
 * deployment's instances, or the sentinel when it is healthy and the instances otherwise.
 */
export type UpstreamMode = "sentinel" | "instances" | "auto";

/** The path of HTTP-01 challenges (RFC 8555 §8.3). */
export const acmePrefix = "/.well-known/acme-challenge/";
/** Frontline's own health, answered on any host no deployment serves. */
export const healthPath = "/_ctrl/health";

/** Where a routed request goes: `addresses` round robin (keyed by `key`), then `fallback` if set. */
export interface ProxyPlan {
  kind: "proxy";
  deploymentId: string;
  key: string;
  addresses: readonly string[];
  fallback?: readonly string[];
  viaSentinel: boolean;
  /** Set when a rollout split chose the deployment afresh: the sticky cookie to send back. */
  setCookie?: string;
}

/** The routing of a host: nobody serves it, nothing ready serves it yet, or proxy to upstreams. */
export type RoutePlan = { kind: "unknown_host" } | { kind: "no_upstream"; deploymentId: string } | ProxyPlan;

/** What frontline does with one request. */
export type RequestPlan =
  /** Missing or malformed Host, or a target that is not a path: 400 with `message`. */
  | { kind: "bad_request"; message: string }
  /** An HTTP-01 challenge to look up (ctrl-api's AcmeService). */
  | { kind: "acme_challenge"; host: string; token: string }
  /** A challenge path with a token no challenge can have: 404 without a lookup. */
  | { kind: "unknown_challenge" }
  /** Plain HTTP for a host with a certificate: 308 to `location`. */
  | { kind: "redirect"; location: string }
  /** Frontline's own health document. */
  | { kind: "health" }
  /** Routed by host (a request with no upstream yet waits for a fresher table, see {@link routeHost}). */
  | { kind: "route"; host: string; route: RoutePlan };

/** The parts of a request the plan depends on. */
export interface PlanRequest {
  /** The Host header as received. */
  host: string | undefined;
  /** The request target as received. */
  url: string | undefined;
  method: string | undefined;
  /** It arrived over TLS. */
  encrypted: boolean;
  /** An `Upgrade` (WebSocket) request: only routed, never answered by frontline itself. */
  upgrade: boolean;
  /** How a rollout split picks a version for this client (see {@link VersionChoice}). */
  choice?: VersionChoice;
}

/** The client's `Cookie` header and a random number in [0, 1): the inputs of a rollout split. */
export interface VersionChoice {
  cookie: string | undefined;
  random: number;
}

/** What the plan is made against. */
export interface PlanContext {
  snapshot: RouteSnapshot;
  mode: UpstreamMode;
  /** Whether challenge paths are answered (an ACME verifier is configured); otherwise they route like any path. */
  acme: boolean;
  httpsRedirect?: FrontlineHttpsRedirect;
}

/**
 * Frontline's decision for one request, shared by the HTTP and the upgrade path, in this order:
 * bad request → ACME challenge → HTTPS redirect → frontline's health (hosts nobody serves) → route
 * by host. Upgrade requests are only checked and routed.
 */
export function planRequest(req: PlanRequest, ctx: PlanContext): RequestPlan {
  const host = normalizeHost(req.host);
  if (!host) return { kind: "bad_request", message: "missing or malformed Host header" };
  if (!isOriginForm(req.url)) return { kind: "bad_request", message: notOriginFormMessage };
  if (req.upgrade) return { kind: "route", host, route: routeHost(ctx.snapshot, host, ctx.mode, req.choice) };
  const path = req.url ?? "/";
  if (ctx.acme && path.startsWith(acmePrefix) && (req.method === "GET" || req.method === "HEAD")) {
    const token = path.slice(acmePrefix.length).split("?")[0]!;
    return /^[A-Za-z0-9_-]{1,256}$/.test(token) ? { kind: "acme_challenge", host, token } : { kind: "unknown_challenge" };
  }
  if (ctx.httpsRedirect && !req.encrypted && ctx.httpsRedirect.shouldRedirectToHttps(host, path)) {
    const port = ctx.httpsRedirect.port === 443 ? "" : `:${ctx.httpsRedirect.port}`;
    return { kind: "redirect", location: `https://${host}${port}${path}` };
  }
  const route = routeHost(ctx.snapshot, host, ctx.mode, req.choice);
  if (path === healthPath && route.kind === "unknown_host") return { kind: "health" };
  return { kind: "route", host, route };
}

/**
 * The upstreams of `host` in `snapshot`: its route (exact, else a one-label wildcard), the deployment
 * a rollout split in this region picks for the client (`choice`; stable without one), then the
 * sentinel or the instances by `mode`.
 */
export function routeHost(snapshot: RouteSnapshot, host: string, mode: UpstreamMode, choice?: VersionChoice): RoutePlan {
  // Exact host first, then a wildcard custom domain of its parent (`*.example.com`, one label deep).
  const dot = host.indexOf(".");
  const found = snapshot.routes.get(host) ?? (dot > 0 ? snapshot.routes.get(`*${host.slice(dot)}`) : undefined);
  if (!found) return { kind: "unknown_host" };
  const split =
    snapshot.splits && snapshot.splits.size > 0 && choice
      ? applySplit(found, snapshot.splits, (id) => (snapshot.instances.get(id)?.length ?? 0) > 0, choice.cookie, choice.random)
      : undefined;
  const route = split ? { ...found, deploymentId: split.deploymentId } : found;
  const setCookie = split?.setCookie ? { setCookie: split.setCookie } : {};
  const instances = snapshot.instances.get(route.deploymentId) ?? [];
  const sentinel = snapshot.sentinels.get(route.environmentId);
  const sentinelReady = sentinel !== undefined && sentinel.healthy;
  if (mode === "sentinel" || (mode === "auto" && sentinelReady)) {
    if (!sentinelReady) return { kind: "no_upstream", deploymentId: route.deploymentId };
    return {
      kind: "proxy",
      key: `sentinel:${sentinel.sentinelId}`,
      addresses: sentinel.addresses,
      // In auto mode a sentinel that cannot be reached is bypassed rather than failing the request.
      ...(mode === "auto" && instances.length > 0 ? { fallback: instances } : {}),
      viaSentinel: true,
      deploymentId: route.deploymentId,
      ...setCookie,
    };
  }
  if (instances.length === 0) return { kind: "no_upstream", deploymentId: route.deploymentId };
  return {
    kind: "proxy",
    key: route.deploymentId,
    addresses: instances,
    viaSentinel: false,
    deploymentId: route.deploymentId,
    ...setCookie,
  };
}
