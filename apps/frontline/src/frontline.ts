import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { TLSSocket, SecureContext } from "node:tls";
import type { Duplex } from "node:stream";
import { randomUUID } from "node:crypto";
import {
  forwardRequest,
  forwardUpgrade,
  isOriginForm,
  normalizeHost,
  notOriginFormMessage,
  rejectUpgrade,
  RoundRobin,
  sendPlain,
  upstreamRequestHeaders,
  type ForwardOutcome,
} from "@ctrl/proxy";
import type { Logger } from "pino";
import type { Dispatcher } from "undici";
import type { AcmeVerifier } from "./acme.js";
import type { RouteSnapshot, RouteSource } from "./route-table.js";

/**
 * Where frontline sends a routed request: always the environment's sentinel, always straight to the
 * deployment's instances, or the sentinel when it is healthy and the instances otherwise.
 */
export type UpstreamMode = "sentinel" | "instances" | "auto";

/** The header that tells a sentinel which deployment of its environment a request is for. */
export const deploymentHeader = "x-ctrl-deployment-id";

/** Frontline's tunables (from config in main.ts, literal in tests). */
export interface FrontlineSettings {
  mode: UpstreamMode;
  maxBodyBytes: number;
  /** Time for an upstream to send response headers. */
  upstreamHeadersTimeoutMs: number;
  /** Longest pause inside an upstream's response body. */
  upstreamBodyTimeoutMs: number;
  /** Upstreams tried per request when connecting fails. */
  maxAttempts: number;
  /** How long a request for a route with no known upstream waits for a fresher route table. */
  missWaitMs: number;
  /** How long an upstream that refused a connection is skipped. */
  failureCooldownMs: number;
  /** Trust incoming X-Forwarded-* (only when frontline itself sits behind a trusted proxy). */
  trustForwarded: boolean;
  /** Time to connect to an upstream for a tunnelled (`Upgrade`) request; default 2 s. */
  connectTimeoutMs?: number;
}

/** TLS at the edge: SNI picks a certificate per host (the certificate store supplies the callback). */
export interface FrontlineTls {
  SNICallback: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;
}

/** Everything frontline needs; tests build it in-process. */
export interface FrontlineDeps {
  routes: RouteSource;
  dispatcher: Dispatcher;
  logger: Logger;
  settings: FrontlineSettings;
  /** Answers `/.well-known/acme-challenge/<token>`; without it those paths route like any other. */
  acme?: AcmeVerifier;
  /** When set, {@link Frontline.createHttpsServer} is available. */
  tls?: FrontlineTls;
  /**
   * Plain-HTTP → HTTPS redirects (308) for hosts the certificate store says are ready (a certificate
   * covers them); the ACME challenge path is answered before this and never redirected.
   */
  httpsRedirect?: FrontlineHttpsRedirect;
}

/** The redirect decision (from `@ctrl/certstore`) and the public HTTPS port to redirect to. */
export interface FrontlineHttpsRedirect {
  shouldRedirectToHttps(host: string, path: string): boolean;
  /** Port in the Location header (omitted when 443). */
  port: number;
}

/** Per-process counters (exposed on the health path). */
export interface FrontlineStats {
  requests: number;
  byStatusClass: Record<string, number>;
  failures: Partial<Record<NonNullable<ForwardOutcome["failure"]> | "unknown_host", number>>;
}

/** A frontline instance: one request handler behind any number of listeners. */
export interface Frontline {
  /** The request handler shared by the HTTP and HTTPS listeners. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The `upgrade` handler (WebSocket) shared by both listeners. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** A plain-HTTP listener (not yet listening). */
  createHttpServer(): HttpServer;
  /** A TLS listener using `deps.tls` (throws without it). */
  createHttpsServer(): HttpsServer;
  stats: FrontlineStats;
}

const acmePrefix = "/.well-known/acme-challenge/";
const healthPath = "/_ctrl/health";

/** Where a routed request goes: `addresses` round robin (keyed by `key`), then `fallback` if set. */
type ProxyPlan = {
  kind: "proxy";
  deploymentId: string;
  key: string;
  addresses: readonly string[];
  fallback?: readonly string[];
  viaSentinel: boolean;
};
type Plan = { kind: "unknown" } | { kind: "no_upstream"; deploymentId: string } | ProxyPlan;

function plan(snapshot: RouteSnapshot, host: string, mode: UpstreamMode): Plan {
  // Exact host first, then a wildcard custom domain of its parent (`*.example.com`, one label deep).
  const dot = host.indexOf(".");
  const route = snapshot.routes.get(host) ?? (dot > 0 ? snapshot.routes.get(`*${host.slice(dot)}`) : undefined);
  if (!route) return { kind: "unknown" };
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
    };
  }
  if (instances.length === 0) return { kind: "no_upstream", deploymentId: route.deploymentId };
  return { kind: "proxy", key: route.deploymentId, addresses: instances, viaSentinel: false, deploymentId: route.deploymentId };
}

/** A request id; randomUUID is batched by Node, far cheaper per request than base58 of fresh bytes. */
function newRequestId(): string {
  return `req_${randomUUID().replaceAll("-", "")}`;
}

/** Short, safe rendering of a host for a response body. */
function printable(host: string): string {
  return host.replace(/[^a-z0-9.\-_:[\]]/gi, "?").slice(0, 253);
}

/**
 * Builds frontline's request handler: `/.well-known/acme-challenge/*` through ctrl-api, then routing
 * by Host through the in-memory route table to the environment's sentinel or the deployment's
 * running instances. Unknown host → 404 naming the host, no ready upstream → 503, upstream failure
 * → 502 (504 on timeout), oversized body → 413; no response reveals an address or an error detail.
 */
export function createFrontline(deps: FrontlineDeps): Frontline {
  const { settings, logger } = deps;
  const balancer = new RoundRobin({ failureCooldownMs: settings.failureCooldownMs });
  const stats: FrontlineStats = { requests: 0, byStatusClass: {}, failures: {} };

  const count = (status: number, failure?: keyof FrontlineStats["failures"]) => {
    stats.requests++;
    const cls = status === 0 ? "aborted" : `${Math.floor(status / 100)}xx`;
    stats.byStatusClass[cls] = (stats.byStatusClass[cls] ?? 0) + 1;
    if (failure) stats.failures[failure] = (stats.failures[failure] ?? 0) + 1;
  };

  async function answerAcme(req: IncomingMessage, res: ServerResponse, host: string, token: string): Promise<void> {
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(token)) {
      sendPlain(res, 404, "unknown challenge");
      return count(404);
    }
    try {
      const lookup = await deps.acme!(host, token);
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
      logger.warn({ err, host, token }, "acme challenge lookup failed");
      sendPlain(res, 502, "challenge lookup failed");
      return count(502, "upstream_error");
    }
  }

  /**
   * The upstream sequence of one request: the plan's addresses round robin, then (auto mode) the
   * instances behind an unreachable sentinel. Failures are remembered so the next request skips them.
   */
  function upstreams(p: ProxyPlan, headers: Record<string, string | string[]>, host: string) {
    const primary = balancer.picker(p.key, p.addresses);
    const fallback = p.fallback ? balancer.picker(p.deploymentId, p.fallback) : undefined;
    let onFallback = false;
    return {
      maxAttempts: settings.maxAttempts + (p.fallback ? p.fallback.length : 0),
      nextUpstream: () => {
        if (!onFallback) {
          const next = primary();
          if (next !== undefined) return next;
          if (!fallback) return undefined;
          onFallback = true;
          // Instances do not understand the sentinel header; they get the request as a client sent it.
          delete headers[deploymentHeader];
        }
        return fallback!();
      },
      onUpstreamFailure: (address: string, err: Error) => {
        balancer.markFailed(address);
        logger.warn({ host, deploymentId: p.deploymentId, upstream: address, code: (err as { code?: string }).code }, "upstream failed");
      },
    };
  }

  /** The plan for `host`, waiting for one fresh route-table read when it has no upstream yet. */
  async function resolvePlan(host: string): Promise<Plan> {
    const p = plan(deps.routes.snapshot(), host, settings.mode);
    if (p.kind === "proxy") return p;
    // A route or instance committed a moment ago may not be loaded yet: wait for one fresh read
    // instead of failing a request during a cutover.
    await deps.routes.nextRefresh(settings.missWaitMs);
    return plan(deps.routes.snapshot(), host, settings.mode);
  }

  /** `Upgrade` requests (WebSocket): routed like any request, then tunnelled to the upstream. */
  async function routeUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const host = normalizeHost(req.headers.host);
    if (!host) {
      rejectUpgrade(socket, 400, "Bad Request", "missing or malformed Host header");
      return count(400);
    }
    if (!isOriginForm(req.url)) {
      rejectUpgrade(socket, 400, "Bad Request", notOriginFormMessage);
      return count(400);
    }
    const p = await resolvePlan(host);
    if (p.kind === "unknown") {
      rejectUpgrade(socket, 404, "Not Found", `no deployment serves host "${printable(host)}"`);
      return count(404, "unknown_host");
    }
    if (p.kind === "no_upstream") {
      rejectUpgrade(socket, 503, "Service Unavailable", `no ready instance serves host "${printable(host)}" yet`);
      return count(503, "no_upstream");
    }
    const encrypted = (req.socket as TLSSocket).encrypted === true;
    const headers = upstreamRequestHeaders(
      req.headers,
      {
        clientIp: req.socket.remoteAddress ?? "unknown",
        proto: encrypted ? "https" : "http",
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
      ...upstreams(p, headers, host),
    });
    count(outcome.status, outcome.failure);
    logger.debug({ host, deploymentId: p.deploymentId, status: outcome.status, upstream: outcome.upstream }, "upgrade");
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = normalizeHost(req.headers.host);
    if (!host) {
      sendPlain(res, 400, "missing or malformed Host header");
      return count(400);
    }
    if (!isOriginForm(req.url)) {
      sendPlain(res, 400, notOriginFormMessage);
      return count(400);
    }
    const path = req.url ?? "/";
    if (deps.acme && path.startsWith(acmePrefix) && (req.method === "GET" || req.method === "HEAD")) {
      return answerAcme(req, res, host, path.slice(acmePrefix.length).split("?")[0]!);
    }

    if (deps.httpsRedirect && (req.socket as TLSSocket).encrypted !== true && deps.httpsRedirect.shouldRedirectToHttps(host, path)) {
      const port = deps.httpsRedirect.port === 443 ? "" : `:${deps.httpsRedirect.port}`;
      res.writeHead(308, { location: `https://${host}${port}${path}`, "content-length": 0, "cache-control": "no-store" });
      res.end();
      return count(308);
    }

    // Frontline's own health answers on any host no deployment serves (e.g. localhost).
    if (path === healthPath && plan(deps.routes.snapshot(), host, settings.mode).kind === "unknown") return health(res);
    const p = await resolvePlan(host);
    if (p.kind === "unknown") {
      sendPlain(res, 404, `no deployment serves host "${printable(host)}"`);
      return count(404, "unknown_host");
    }
    if (p.kind === "no_upstream") {
      sendPlain(res, 503, `no ready instance serves host "${printable(host)}" yet`, { "retry-after": "1" });
      logger.info({ host, deploymentId: p.deploymentId }, "no ready upstream");
      return count(503, "no_upstream");
    }

    const encrypted = (req.socket as TLSSocket).encrypted === true;
    // One id per request, on the response and upstream, so frontline, sentinel and app logs correlate.
    const incomingId = req.headers["x-request-id"];
    const requestId =
      settings.trustForwarded && typeof incomingId === "string" && /^[A-Za-z0-9_.-]{1,128}$/.test(incomingId) ? incomingId : newRequestId();
    res.setHeader("x-request-id", requestId);
    const headers = upstreamRequestHeaders(
      req.headers,
      {
        clientIp: req.socket.remoteAddress ?? "unknown",
        proto: encrypted ? "https" : "http",
        host: req.headers.host ?? host,
        trustForwarded: settings.trustForwarded,
      },
      { "x-request-id": requestId, ...(p.viaSentinel ? { [deploymentHeader]: p.deploymentId } : {}) },
      [deploymentHeader],
    );
    const outcome = await forwardRequest({
      dispatcher: deps.dispatcher,
      req,
      res,
      headers,
      maxBodyBytes: settings.maxBodyBytes,
      headersTimeoutMs: settings.upstreamHeadersTimeoutMs,
      bodyTimeoutMs: settings.upstreamBodyTimeoutMs,
      ...upstreams(p, headers, host),
      onUpstreamSuccess: (address) => balancer.markHealthy(address),
    });
    count(outcome.status, outcome.failure);
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

  function health(res: ServerResponse): void {
    const snapshot = deps.routes.snapshot();
    const body = JSON.stringify({
      status: "ok",
      routes: snapshot.routes.size,
      lastRefreshAt: deps.routes.lastRefreshAt(),
      requests: stats.requests,
      failingUpstreams: balancer.failing().length,
    });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
    res.end(body);
  }

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    routeUpgrade(req, socket, head).catch((err: unknown) => {
      logger.error({ err, host: req.headers.host }, "frontline upgrade failed");
      rejectUpgrade(socket, 500, "Internal Server Error", "internal error");
      count(500);
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((err: unknown) => {
      logger.error({ err, host: req.headers.host, url: req.url }, "frontline handler failed");
      sendPlain(res, 500, "internal error");
      count(500);
    });
  };

  return {
    handle,
    stats,
    handleUpgrade,
    createHttpServer: () => createHttpServer(handle).on("upgrade", handleUpgrade),
    createHttpsServer: () => {
      if (!deps.tls) throw new Error("frontline: no TLS configured (deps.tls with an SNICallback is required for HTTPS)");
      return createHttpsServer({ SNICallback: deps.tls.SNICallback }, handle).on("upgrade", handleUpgrade);
    },
  };
}
