import { forwardUpgrade, rejectUpgrade, upstreamRequestHeaders } from "@ctrl/proxy";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { isEncrypted, planFor, printable, routeAfterRefresh, type FrontlineContext } from "./context.js";
import { deploymentHeader, upstreamSequence } from "./upstreams.js";

/** `Upgrade` requests (WebSocket): routed like any request, then tunnelled to the upstream. */
export async function routeUpgrade(ctx: FrontlineContext, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const startedAt = performance.now();
  const { deps, count } = ctx;
  const { settings, logger } = deps;
  const plan = planFor(ctx, req, true);
  if (plan.kind === "bad_request") {
    rejectUpgrade(socket, 400, "Bad Request", plan.message);
    return count(400);
  }
  if (plan.kind !== "route") throw new Error(`frontline: an upgrade request was planned as ${plan.kind}`);
  const { host } = plan;
  const p = plan.route.kind === "proxy" ? plan.route : await routeAfterRefresh(ctx, host, req);
  if (p.kind === "unknown_host") {
    rejectUpgrade(socket, 404, "Not Found", `no deployment serves host "${printable(host)}"`);
    return count(404, "unknown_host");
  }
  if (p.kind === "no_upstream") {
    rejectUpgrade(socket, 503, "Service Unavailable", `no ready instance serves host "${printable(host)}" yet`);
    return count(503, "no_upstream");
  }
  const headers = upstreamRequestHeaders(
    req.headers,
    {
      clientIp: req.socket.remoteAddress ?? "unknown",
      proto: isEncrypted(req) ? "https" : "http",
      host: req.headers.host ?? host,
      trustForwarded: settings.trustForwarded,
    },
    p.viaSentinel ? { [deploymentHeader]: p.deploymentId } : {},
    [deploymentHeader],
  );
  const outcome = await forwardUpgrade({
    req,
    socket,
    head,
    headers,
    connectTimeoutMs: settings.connectTimeoutMs ?? 2_000,
    ...upstreamSequence(ctx.balancer, settings.maxAttempts, logger, p, headers, host),
  });
  count(outcome.status, outcome.failure);
  ctx.metrics.observe(
    p.deploymentId,
    outcome.status,
    performance.now() - startedAt,
    outcome.failure !== undefined && outcome.failure !== "client_aborted",
  );
  logger.debug({ host, deploymentId: p.deploymentId, status: outcome.status, upstream: outcome.upstream }, "upgrade");
}
