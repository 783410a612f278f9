import type { RoundRobin, TrafficMetrics } from "@ctrl/proxy";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { FrontlineDeps, FrontlineStats } from "./frontline.js";
import { planRequest, routeHost, type RequestPlan, type RoutePlan, type VersionChoice } from "./plan.js";

/** What frontline's HTTP and upgrade handlers share. */
export interface FrontlineContext {
  deps: FrontlineDeps;
  balancer: RoundRobin;
  stats: FrontlineStats;
  /** Per-deployment traffic (counted for routed requests only). */
  metrics: TrafficMetrics;
  /** Counts one answered request by status class (0: aborted) and failure. */
  count(status: number, failure?: keyof FrontlineStats["failures"]): void;
}

/** The plan of `req` against the current route table. */
export function planFor(ctx: FrontlineContext, req: IncomingMessage, upgrade: boolean): RequestPlan {
  const { deps } = ctx;
  return planRequest(
    { host: req.headers.host, url: req.url, method: req.method, encrypted: isEncrypted(req), upgrade, choice: versionChoice(req) },
    {
      snapshot: deps.routes.snapshot(),
      mode: deps.settings.mode,
      acme: deps.acme !== undefined,
      ...(deps.httpsRedirect ? { httpsRedirect: deps.httpsRedirect } : {}),
    },
  );
}

/**
 * The route of a host that had no upstream: a route or instance committed a moment ago may not
 * be loaded yet, so wait for one fresh read instead of failing a request during a cutover.
 */
export async function routeAfterRefresh(ctx: FrontlineContext, host: string, req: IncomingMessage): Promise<RoutePlan> {
  await ctx.deps.routes.nextRefresh(ctx.deps.settings.missWaitMs);
  return routeHost(ctx.deps.routes.snapshot(), host, ctx.deps.settings.mode, versionChoice(req));
}

/** The inputs of a rollout split for this request: its cookies and a fresh random draw. */
function versionChoice(req: IncomingMessage): VersionChoice {
  return { cookie: req.headers.cookie, random: Math.random() };
}

export function isEncrypted(req: IncomingMessage): boolean {
  return (req.socket as TLSSocket).encrypted === true;
}

/** Short, safe rendering of a host for a response body. */
export function printable(host: string): string {
  return host.replace(/[^a-z0-9.\-_:[\]]/gi, "?").slice(0, 253);
}
