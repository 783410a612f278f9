import { createDb } from "@ctrl/db";
import { createUpstreamPool } from "@ctrl/proxy";
import type { Server } from "node:http";
import { createAcmeVerifier } from "./acme.js";
import { loadFrontlineConfig } from "./config.js";
import { createFrontline } from "./frontline.js";
import { createLogger } from "./logger.js";
import { startRouteTable } from "./route-table.js";

// Composition root: the only place that reads the environment, opens pools and listens.
const config = loadFrontlineConfig();
const logger = createLogger(config.LOG_LEVEL, { region: config.FRONTLINE_REGION });
const db = createDb({ url: config.DATABASE_URL, connectionLimit: 4 });
const routes = await startRouteTable({ db, region: config.FRONTLINE_REGION, logger, pollIntervalMs: config.FRONTLINE_POLL_INTERVAL_MS, fullReloadMs: config.FRONTLINE_FULL_RELOAD_MS });
const dispatcher = createUpstreamPool({ connectTimeoutMs: config.FRONTLINE_CONNECT_TIMEOUT_MS });
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
  },
  ...(config.CTRL_API_URL ? { acme: createAcmeVerifier({ baseUrl: config.CTRL_API_URL, token: config.CTRL_API_TOKEN, timeoutMs: config.FRONTLINE_ACME_TIMEOUT_MS }) } : {}),
  // TLS: the certificates issue passes `tls: { SNICallback }` from its certificate store and sets HTTPS_PORT.
});

function applyClientTimeouts(server: Server): void {
  server.headersTimeout = config.FRONTLINE_CLIENT_HEADERS_TIMEOUT_MS;
  server.requestTimeout = config.FRONTLINE_CLIENT_REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = config.FRONTLINE_CLIENT_KEEP_ALIVE_MS;
}

const http = frontline.createHttpServer();
applyClientTimeouts(http);
await new Promise<void>((resolve) => http.listen(config.PORT, config.HOST, resolve));
logger.info({ http: `http://${config.HOST}:${(http.address() as { port: number }).port}`, mode: config.FRONTLINE_UPSTREAM }, "frontline listening");

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "frontline shutting down");
  // Stop accepting, let requests in flight finish (bounded), then close pools.
  const closed = new Promise<void>((resolve) => http.close(() => resolve()));
  http.closeIdleConnections();
  await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
  await routes.stop();
  await dispatcher.close();
  await db.destroy();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
