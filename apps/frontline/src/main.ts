import { createCertStore } from "@ctrl/certstore";
import { createLogger } from "@ctrl/config";
import { createDb } from "@ctrl/db";
import { Vault } from "@ctrl/vault";
import { createUpstreamPool } from "@ctrl/proxy";
import type { Server } from "node:http";
import { createAcmeVerifier } from "./acme.js";
import { loadFrontlineConfig } from "./config.js";
import { createFrontline } from "./frontline.js";
import { createOpsServer } from "./ops.js";
import { startRouteTable } from "./route-table.js";

// Composition root: the only place that reads the environment, opens pools and listens.
const config = loadFrontlineConfig();
const logger = createLogger({ service: "frontline", level: config.LOG_LEVEL, base: { region: config.FRONTLINE_REGION } });
const db = createDb({ url: config.DATABASE_URL, connectionLimit: 4 });
const routes = await startRouteTable({
  db,
  region: config.FRONTLINE_REGION,
  logger,
  pollIntervalMs: config.FRONTLINE_POLL_INTERVAL_MS,
  fullReloadMs: config.FRONTLINE_FULL_RELOAD_MS,
  verifyEveryMs: config.FRONTLINE_ROUTE_VERIFY_MS,
  upstreamPorts: config.FRONTLINE_UPSTREAM_PORT_RANGE,
});
const dispatcher = createUpstreamPool({ connectTimeoutMs: config.FRONTLINE_CONNECT_TIMEOUT_MS });
// TLS: certificates issued by the worker, keys decrypted in memory, new/renewed ones picked up by polling.
if (config.HTTPS_PORT >= 0 && !config.VAULT_MASTER_KEYS)
  throw new Error("frontline: HTTPS_PORT needs VAULT_MASTER_KEYS (the worker's) to decrypt certificate keys");
const certs =
  config.HTTPS_PORT >= 0
    ? createCertStore({ db, vault: Vault.fromSpec(config.VAULT_MASTER_KEYS!), logger, pollIntervalMs: config.FRONTLINE_CERT_POLL_MS })
    : undefined;
await certs?.start();
// The redirect's port is filled in once the HTTPS listener is bound (HTTPS_PORT=0 picks a free one).
const httpsRedirect =
  certs && config.FRONTLINE_HTTPS_REDIRECT
    ? { shouldRedirectToHttps: certs.shouldRedirectToHttps, port: config.FRONTLINE_PUBLIC_HTTPS_PORT ?? config.HTTPS_PORT }
    : undefined;
const frontline = createFrontline({
  routes,
  dispatcher,
  logger,
  settings: {
    mode: config.FRONTLINE_UPSTREAM,
    maxBodyBytes: config.FRONTLINE_MAX_BODY_BYTES,
    upstreamHeadersTimeoutMs: config.FRONTLINE_UPSTREAM_HEADERS_TIMEOUT_MS,
    upstreamBodyTimeoutMs: config.FRONTLINE_UPSTREAM_BODY_TIMEOUT_MS,
    maxAttempts: config.FRONTLINE_MAX_ATTEMPTS,
    missWaitMs: config.FRONTLINE_MISS_WAIT_MS,
    failureCooldownMs: 2_000,
    trustForwarded: config.FRONTLINE_TRUST_FORWARDED,
    connectTimeoutMs: config.FRONTLINE_CONNECT_TIMEOUT_MS,
  },
  ...(config.CTRL_API_URL && config.CTRL_FRONTLINE_TOKEN
    ? {
        acme: createAcmeVerifier({
          baseUrl: config.CTRL_API_URL,
          token: config.CTRL_FRONTLINE_TOKEN,
          timeoutMs: config.FRONTLINE_ACME_TIMEOUT_MS,
        }),
      }
    : {}),
  ...(certs ? { tls: certs } : {}),
  ...(httpsRedirect ? { httpsRedirect } : {}),
});

function applyClientTimeouts(server: Server): void {
  server.headersTimeout = config.FRONTLINE_CLIENT_HEADERS_TIMEOUT_MS;
  server.requestTimeout = config.FRONTLINE_CLIENT_REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = config.FRONTLINE_CLIENT_KEEP_ALIVE_MS;
}

const http = frontline.createHttpServer();
applyClientTimeouts(http);
await new Promise<void>((resolve) => http.listen(config.PORT, config.HOST, resolve));
const ops = config.FRONTLINE_METRICS_PORT >= 0 ? createOpsServer(frontline) : undefined;
if (ops) await new Promise<void>((resolve) => ops.listen(config.FRONTLINE_METRICS_PORT, config.FRONTLINE_METRICS_HOST, resolve));
const https = certs ? frontline.createHttpsServer() : undefined;
if (https) {
  applyClientTimeouts(https as unknown as Server);
  await new Promise<void>((resolve) => https.listen(config.HTTPS_PORT, config.HOST, resolve));
}
const httpsPort = https ? (https.address() as { port: number }).port : undefined;
if (httpsRedirect && httpsPort !== undefined && config.FRONTLINE_PUBLIC_HTTPS_PORT === undefined) httpsRedirect.port = httpsPort;
logger.info(
  {
    http: `http://${config.HOST}:${(http.address() as { port: number }).port}`,
    https: httpsPort,
    metrics: ops ? `http://${config.FRONTLINE_METRICS_HOST}:${(ops.address() as { port: number }).port}/metrics` : undefined,
    certificates: certs?.size,
    mode: config.FRONTLINE_UPSTREAM,
  },
  "frontline listening",
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "frontline shutting down");
  // Stop accepting, let requests in flight finish (bounded), then close pools.
  const closed = Promise.all([
    new Promise<void>((resolve) => http.close(() => resolve())),
    https ? new Promise<void>((resolve) => https.close(() => resolve())) : undefined,
    ops ? new Promise<void>((resolve) => ops.close(() => resolve())) : undefined,
  ]);
  ops?.closeAllConnections();
  http.closeIdleConnections();
  https?.closeIdleConnections();
  certs?.stop();
  await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
  await routes.stop();
  await dispatcher.close();
  await db.destroy();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
