import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
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
  createTrafficMetrics,
  type TrafficMetrics,
} from "@ctrl/proxy";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import type { Dispatcher } from "undici";
import type { InstanceSource } from "./instance-table.js";

/** The header frontline sets to name the deployment a request is for. */
export const deploymentHeader = "x-ctrl-deployment-id";

/** The sentinel's tunables. */
export interface SentinelSettings {
  maxBodyBytes: number;
  upstreamHeadersTimeoutMs: number;
  upstreamBodyTimeoutMs: number;
  /** Instances tried per request when connecting fails. */
  maxAttempts: number;
  /** How long an instance that refused a connection is skipped. */
  failureCooldownMs: number;
  /** How long a request for a deployment with no known instance waits for a fresher list. */
  missWaitMs: number;
  /** Time to connect to an instance for a tunnelled (`Upgrade`) request; default 1 s. */
  connectTimeoutMs?: number;
}

/** Dependencies of {@link createSentinel}. */
export interface SentinelDeps {
  instances: InstanceSource;
  dispatcher: Dispatcher;
  logger: Logger;
  environmentId: string;
  sentinelId: string;
  /** The image it runs (`CTRL_IMAGE`), shown on `/_ctrl/health`. */
  image?: string;
  settings: SentinelSettings;
  /** Per-deployment traffic counters served on `/metrics` (a fresh registry when absent). */
  metrics?: TrafficMetrics;
}

/** Request counters (exposed on `/_ctrl/health`). */
export interface SentinelStats {
  requests: number;
  byStatusClass: Record<string, number>;
  byDeployment: Record<string, number>;
  retries: number;
}

/** A sentinel: one request handler and its counters. */
export interface Sentinel {
  handle(req: IncomingMessage, res: ServerResponse): void;
  createServer(): Server;
  stats: SentinelStats;
  metrics: TrafficMetrics;
}

const healthPath = "/_ctrl/health";
const metricsPath = "/metrics";

/** What the sentinel's handlers share: its dependencies, the balancer and the counters. */
interface SentinelContext {
  deps: SentinelDeps;
  settings: SentinelDeps["settings"];
  logger: SentinelDeps["logger"];
  balancer: RoundRobin;
  stats: SentinelStats;
  metrics: TrafficMetrics;
  /**
   * Counts one answered request (status 0 = aborted) by status class and deployment; with
   * `startedAt`, also in the traffic metrics (`failed`: the sentinel answered for want of an instance).
   */
  count: (status: number, deploymentId?: string, startedAt?: number, failed?: boolean) => void;
}

/**
 * Builds the sentinel's handler: requests carrying `x-ctrl-deployment-id` (set by frontline) go
 * round robin to that deployment's running instances in this environment and region, skipping
 * instances that recently refused connections and retrying another on a connect error.
 * `/_ctrl/health` (without that header, so an app's own path of that name still routes) reports
 * health and counters; `/metrics` (likewise without the header) serves the per-deployment traffic
 * metrics the rollout analysis reads, in Prometheus text format.
 */
export function createSentinel(deps: SentinelDeps): Sentinel {
  const { settings, logger } = deps;
  const balancer = new RoundRobin({ failureCooldownMs: settings.failureCooldownMs });
  const stats: SentinelStats = { requests: 0, byStatusClass: {}, byDeployment: {}, retries: 0 };
  const metrics = deps.metrics ?? createTrafficMetrics();

  const count = (status: number, deploymentId?: string, startedAt?: number, failed = false) => {
    stats.requests++;
    const cls = status === 0 ? "aborted" : `${Math.floor(status / 100)}xx`;
    stats.byStatusClass[cls] = (stats.byStatusClass[cls] ?? 0) + 1;
    if (deploymentId) {
      stats.byDeployment[deploymentId] = (stats.byDeployment[deploymentId] ?? 0) + 1;
      if (startedAt !== undefined) metrics.observe(deploymentId, status, performance.now() - startedAt, failed);
    }
  };
  const s: SentinelContext = { deps, settings, logger, balancer, stats, metrics, count };

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    routeUpgrade(s, req, socket, head).catch((err: unknown) => {
      logger.error({ err }, "sentinel upgrade failed");
      rejectUpgrade(socket, 500, "Internal Server Error", "internal error");
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    route(s, req, res).catch((err: unknown) => {
      logger.error({ err }, "sentinel handler failed");
      sendPlain(res, 500, "internal error");
      count(500);
    });
  };
  return { handle, stats, metrics, createServer: () => createServer(handle).on("upgrade", handleUpgrade) };
}

/** `/_ctrl/health`: health and counters (no deployment header). */
function health(s: SentinelContext, res: ServerResponse): void {
  const body = JSON.stringify({
    status: "ok",
    sentinelId: s.deps.sentinelId,
    image: s.deps.image ?? "",
    pid: process.pid,
    environmentId: s.deps.environmentId,
    instances: s.deps.instances.count(),
    failingInstances: s.balancer.failing().length,
    lastRefreshAt: s.deps.instances.lastRefreshAt(),
    ...s.stats,
  });
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
  res.end(body);
}

/** `/metrics`: the per-deployment traffic in Prometheus text format (no deployment header). */
async function serveMetrics(s: SentinelContext, res: ServerResponse): Promise<void> {
  const { contentType, body } = await s.metrics.expose();
  res.writeHead(200, { "content-type": contentType, "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
  res.end(body);
}

/** A request from frontline: forwarded round robin to a running instance of its deployment. */
async function route(s: SentinelContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startedAt = performance.now();
  const raw = req.headers[deploymentHeader];
  const deploymentId = Array.isArray(raw) ? raw[0] : raw;
  if (!deploymentId) {
    const path = (req.url ?? "/").split("?")[0];
    if (path === healthPath) return health(s, res);
    if (path === metricsPath && (req.method === "GET" || req.method === "HEAD")) return serveMetrics(s, res);
    sendPlain(res, 400, `missing ${deploymentHeader}: requests reach a sentinel through frontline`);
    return s.count(400);
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(deploymentId)) {
    sendPlain(res, 400, `malformed ${deploymentHeader}`);
    return s.count(400);
  }
  if (!isOriginForm(req.url)) {
    sendPlain(res, 400, notOriginFormMessage);
    return s.count(400);
  }
  // Forwarded upstream as-is: a malformed one (`[::1`) would make undici fail the request (a 502).
  if (!normalizeHost(req.headers.host)) {
    sendPlain(res, 400, "missing or malformed Host header");
    return s.count(400);
  }
  let addresses = s.deps.instances.addresses(deploymentId);
  if (addresses.length === 0) {
    // Instances that just became ready (a cutover in progress) may not be loaded yet.
    await s.deps.instances.nextRefresh(s.settings.missWaitMs);
    addresses = s.deps.instances.addresses(deploymentId);
  }
  if (addresses.length === 0) {
    sendPlain(res, 503, "no ready instance for this deployment", { "retry-after": "1" });
    s.logger.info({ deploymentId }, "no ready instance");
    return s.count(503, deploymentId, startedAt, true);
  }
  const host = req.headers.host ?? "";
  const headers = upstreamRequestHeaders(
    req.headers,
    { clientIp: req.socket.remoteAddress ?? "unknown", proto: "http", host, trustForwarded: true },
    {},
    [deploymentHeader],
  );
  const pick = s.balancer.picker(deploymentId, addresses);
  const outcome = await forwardRequest({
    dispatcher: s.deps.dispatcher,
    req,
    res,
    headers,
    maxAttempts: Math.min(s.settings.maxAttempts, addresses.length),
    maxBodyBytes: s.settings.maxBodyBytes,
    headersTimeoutMs: s.settings.upstreamHeadersTimeoutMs,
    bodyTimeoutMs: s.settings.upstreamBodyTimeoutMs,
    nextUpstream: pick,
    onUpstreamFailure: (address, err) => {
      s.balancer.markFailed(address);
      s.logger.warn({ deploymentId, instance: address, code: (err as { code?: string }).code }, "instance failed; skipping it");
    },
    onUpstreamSuccess: (address) => s.balancer.markHealthy(address),
  });
  if (outcome.attempts > 1) s.stats.retries += outcome.attempts - 1;
  s.count(outcome.status, deploymentId, startedAt, outcome.failure !== undefined && outcome.failure !== "client_aborted");
  const requestId = req.headers["x-request-id"];
  if (outcome.failure && outcome.failure !== "client_aborted") {
    s.logger.warn(
      {
        requestId,
        deploymentId,
        status: outcome.status,
        failure: outcome.failure,
        code: outcome.errorCode,
        instance: outcome.upstream,
        attempts: outcome.attempts,
      },
      "request failed",
    );
  } else {
    s.logger.debug({ requestId, deploymentId, method: req.method, status: outcome.status, instance: outcome.upstream }, "request");
  }
}

/** `Upgrade` requests (WebSocket) from frontline: tunnelled to an instance of the deployment. */
async function routeUpgrade(s: SentinelContext, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const startedAt = performance.now();
  const raw = req.headers[deploymentHeader];
  const deploymentId = Array.isArray(raw) ? raw[0] : raw;
  if (!deploymentId || !/^[A-Za-z0-9_-]{1,64}$/.test(deploymentId)) {
    rejectUpgrade(socket, 400, "Bad Request", `missing or malformed ${deploymentHeader}`);
    return s.count(400);
  }
  if (!isOriginForm(req.url) || !normalizeHost(req.headers.host)) {
    rejectUpgrade(socket, 400, "Bad Request", `${notOriginFormMessage}, with a well-formed Host header`);
    return s.count(400);
  }
  let addresses = s.deps.instances.addresses(deploymentId);
  if (addresses.length === 0) {
    await s.deps.instances.nextRefresh(s.settings.missWaitMs);
    addresses = s.deps.instances.addresses(deploymentId);
  }
  const headers = upstreamRequestHeaders(
    req.headers,
    { clientIp: req.socket.remoteAddress ?? "unknown", proto: "http", host: req.headers.host ?? "", trustForwarded: true },
    {},
    [deploymentHeader],
  );
  const outcome = await forwardUpgrade({
    req,
    socket,
    head,
    headers,
    maxAttempts: Math.max(1, Math.min(s.settings.maxAttempts, addresses.length)),
    connectTimeoutMs: s.settings.connectTimeoutMs ?? 1_000,
    nextUpstream: s.balancer.picker(deploymentId, addresses),
    onUpstreamFailure: (address) => s.balancer.markFailed(address),
  });
  s.count(outcome.status, deploymentId, startedAt, outcome.failure !== undefined && outcome.failure !== "client_aborted");
}
