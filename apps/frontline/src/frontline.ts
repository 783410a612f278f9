import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { SecureContext } from "node:tls";
import type { Duplex } from "node:stream";
import { rejectUpgrade, RoundRobin, sendPlain, type ForwardOutcome, createTrafficMetrics, type TrafficMetrics } from "@ctrl/proxy";
import type { Logger } from "pino";
import type { Dispatcher } from "undici";
import type { AcmeVerifier } from "./acme.js";
import type { FrontlineContext } from "./context.js";
import { routeRequest } from "./http-handler.js";
import type { UpstreamMode } from "./plan.js";
import type { RouteSource } from "./route-table.js";
import { routeUpgrade } from "./upgrade-handler.js";

export type { UpstreamMode } from "./plan.js";
export { deploymentHeader } from "./upstreams.js";

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
  /** Per-deployment traffic counters (a fresh registry when absent); `main.ts` serves them on the metrics port. */
  metrics?: TrafficMetrics;
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
  /** What the rollout analysis reads: requests, 5xx and latency per deployment. */
  metrics: TrafficMetrics;
}

/**
 * Builds frontline's request handler: `/.well-known/acme-challenge/*` through ctrl-api, then routing
 * by Host through the in-memory route table to the environment's sentinel or the deployment's
 * running instances. Unknown host → 404 naming the host, no ready upstream → 503, upstream failure
 * → 502 (504 on timeout), oversized body → 413; no response reveals an address or an error detail.
 * The decision is plan.ts; http-handler.ts and upgrade-handler.ts carry it out.
 */
export function createFrontline(deps: FrontlineDeps): Frontline {
  const { settings, logger } = deps;
  const stats: FrontlineStats = { requests: 0, byStatusClass: {}, failures: {} };
  const metrics = deps.metrics ?? createTrafficMetrics();
  const ctx: FrontlineContext = {
    deps,
    metrics,
    balancer: new RoundRobin({ failureCooldownMs: settings.failureCooldownMs }),
    stats,
    count: (status, failure) => {
      stats.requests++;
      const cls = status === 0 ? "aborted" : `${Math.floor(status / 100)}xx`;
      stats.byStatusClass[cls] = (stats.byStatusClass[cls] ?? 0) + 1;
      if (failure) stats.failures[failure] = (stats.failures[failure] ?? 0) + 1;
    },
  };

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    routeUpgrade(ctx, req, socket, head).catch((err: unknown) => {
      logger.error({ err, host: req.headers.host }, "frontline upgrade failed");
      rejectUpgrade(socket, 500, "Internal Server Error", "internal error");
      ctx.count(500);
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    routeRequest(ctx, req, res).catch((err: unknown) => {
      logger.error({ err, host: req.headers.host, url: req.url }, "frontline handler failed");
      sendPlain(res, 500, "internal error");
      ctx.count(500);
    });
  };

  return {
    handle,
    stats,
    metrics,
    handleUpgrade,
    createHttpServer: () => createHttpServer(handle).on("upgrade", handleUpgrade),
    createHttpsServer: () => {
      if (!deps.tls) throw new Error("frontline: no TLS configured (deps.tls with an SNICallback is required for HTTPS)");
      return createHttpsServer({ SNICallback: deps.tls.SNICallback }, handle).on("upgrade", handleUpgrade);
    },
  };
}
