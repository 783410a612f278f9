import { forwardRequest, sendPlain, upstreamRequestHeaders } from "@ctrl/proxy";
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isEncrypted, planFor, printable, routeAfterRefresh, type FrontlineContext } from "./context.js";
import type { ProxyPlan } from "./plan.js";
import { deploymentHeader, upstreamSequence } from "./upstreams.js";

/** Answers one HTTP request by its plan (see plan.ts): 400, ACME challenge, redirect, health, 404/503, or proxied. */
export async function routeRequest(ctx: FrontlineContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startedAt = performance.now();
  const { count, deps } = ctx;
  const plan = planFor(ctx, req, false);
  switch (plan.kind) {
    case "bad_request":
      sendPlain(res, 400, plan.message);
      return count(400);
    case "unknown_challenge":
      sendPlain(res, 404, "unknown challenge");
      return count(404);
    case "acme_challenge":
      return answerAcme(ctx, res, plan.host, plan.token);
    case "redirect":
      res.writeHead(308, { location: plan.location, "content-length": 0, "cache-control": "no-store" });
      res.end();
      return count(308);
    case "health":
      return answerHealth(ctx, res);
    case "route": {
      const { host } = plan;
      const p = plan.route.kind === "proxy" ? plan.route : await routeAfterRefresh(ctx, host, req);
      if (p.kind === "unknown_host") {
        sendPlain(res, 404, `no deployment serves host "${printable(host)}"`);
        return count(404, "unknown_host");
      }
      if (p.kind === "no_upstream") {
        sendPlain(res, 503, `no ready instance serves host "${printable(host)}" yet`, { "retry-after": "1" });
        deps.logger.info({ host, deploymentId: p.deploymentId }, "no ready upstream");
        ctx.metrics.observe(p.deploymentId, 503, performance.now() - startedAt, true);
        return count(503, "no_upstream");
      }
      return proxyRequest(ctx, req, res, host, p, startedAt);
    }
  }
}

/** Forwards the request to the plan's upstreams, with a request id on the response and upstream. */
async function proxyRequest(
  ctx: FrontlineContext,
  req: IncomingMessage,
  res: ServerResponse,
  host: string,
  p: ProxyPlan,
  startedAt: number,
): Promise<void> {
  const { settings, logger } = ctx.deps;
  // One id per request, on the response and upstream, so frontline, sentinel and app logs correlate.
  const incomingId = req.headers["x-request-id"];
  const requestId =
    settings.trustForwarded && typeof incomingId === "string" && /^[A-Za-z0-9_.-]{1,128}$/.test(incomingId) ? incomingId : newRequestId();
  res.setHeader("x-request-id", requestId);
  const headers = upstreamRequestHeaders(
    req.headers,
    {
      clientIp: req.socket.remoteAddress ?? "unknown",
      proto: isEncrypted(req) ? "https" : "http",
      host: req.headers.host ?? host,
      trustForwarded: settings.trustForwarded,
    },
    { "x-request-id": requestId, ...(p.viaSentinel ? { [deploymentHeader]: p.deploymentId } : {}) },
    [deploymentHeader],
  );
  const outcome = await forwardRequest({
    dispatcher: ctx.deps.dispatcher,
    req,
    res,
    headers,
    maxBodyBytes: settings.maxBodyBytes,
    headersTimeoutMs: settings.upstreamHeadersTimeoutMs,
    bodyTimeoutMs: settings.upstreamBodyTimeoutMs,
    ...upstreamSequence(ctx.balancer, settings.maxAttempts, logger, p, headers, host),
    onUpstreamSuccess: (address) => ctx.balancer.markHealthy(address),
    ...(p.setCookie ? { addSetCookie: p.setCookie } : {}),
  });
  ctx.count(outcome.status, outcome.failure);
  ctx.metrics.observe(
    p.deploymentId,
    outcome.status,
    performance.now() - startedAt,
    outcome.failure !== undefined && outcome.failure !== "client_aborted",
  );
  if (outcome.failure && outcome.failure !== "client_aborted") {
    logger.warn(
      {
        requestId,
        host,
        deploymentId: p.deploymentId,
        status: outcome.status,
        failure: outcome.failure,
        code: outcome.errorCode,
        upstream: outcome.upstream,
        attempts: outcome.attempts,
      },
      "request failed",
    );
  } else {
    logger.debug(
      { requestId, host, deploymentId: p.deploymentId, method: req.method, status: outcome.status, upstream: outcome.upstream },
      "request",
    );
  }
}

/** The key authorization of an HTTP-01 challenge, looked up through ctrl-api. */
async function answerAcme(ctx: FrontlineContext, res: ServerResponse, host: string, token: string): Promise<void> {
  const { count } = ctx;
  try {
    const lookup = await ctx.deps.acme!(host, token);
    if (!lookup.found) {
      sendPlain(res, 404, "unknown challenge");
      return count(404);
    }
    // RFC 8555 §8.3: the body is exactly the key authorization.
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": Buffer.byteLength(lookup.keyAuthorization),
      "cache-control": "no-store",
    });
    res.end(lookup.keyAuthorization);
    return count(200);
  } catch (err) {
    ctx.deps.logger.warn({ err, host, token }, "acme challenge lookup failed");
    sendPlain(res, 502, "challenge lookup failed");
    return count(502, "upstream_error");
  }
}

/** Frontline's own health: route count, last refresh, requests and failing upstreams. */
function answerHealth(ctx: FrontlineContext, res: ServerResponse): void {
  const { routes } = ctx.deps;
  const body = JSON.stringify({
    status: "ok",
    routes: routes.snapshot().routes.size,
    lastRefreshAt: routes.lastRefreshAt(),
    requests: ctx.stats.requests,
    failingUpstreams: ctx.balancer.failing().length,
  });
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
  res.end(body);
}

/** A request id; randomUUID is batched by Node, far cheaper per request than base58 of fresh bytes. */
function newRequestId(): string {
  return `req_${randomUUID().replaceAll("-", "")}`;
}
