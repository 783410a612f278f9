import { createLogger } from "@ctrl/config";
import { createDb } from "@ctrl/db";
import { createUpstreamPool } from "@ctrl/proxy";
import { loadSentinelConfig } from "./config.js";
import { startInstanceTable } from "./instance-table.js";
import { createSentinel } from "./sentinel.js";

// Composition root: the only place that reads the environment, opens pools and listens.
// A function rather than top-level await so the bundle can be CommonJS (see scripts/bundle.ts).
async function main(): Promise<void> {
  // Long because a composition root: open, start and close in reverse order, readable as one list.
  const config = loadSentinelConfig();
  const logger = createLogger({
    service: "sentinel",
    level: config.LOG_LEVEL,
    base: { sentinelId: config.CTRL_SENTINEL_ID, environmentId: config.CTRL_ENVIRONMENT_ID, region: config.CTRL_REGION },
  });
  const db = createDb({ url: config.DATABASE_URL, connectionLimit: 2 });
  const instances = await startInstanceTable({
    db,
    environmentId: config.CTRL_ENVIRONMENT_ID,
    region: config.CTRL_REGION,
    logger,
    pollIntervalMs: config.SENTINEL_POLL_INTERVAL_MS,
    fullReloadMs: config.SENTINEL_FULL_RELOAD_MS,
    upstreamPorts: config.SENTINEL_UPSTREAM_PORT_RANGE,
    onDatabaseGone: (err) => {
      logger.fatal({ err }, "the database in DATABASE_URL no longer exists; exiting");
      process.exit(1);
    },
  });
  const dispatcher = createUpstreamPool({ connectTimeoutMs: config.SENTINEL_CONNECT_TIMEOUT_MS });
  const sentinel = createSentinel({
    instances,
    dispatcher,
    logger,
    environmentId: config.CTRL_ENVIRONMENT_ID,
    sentinelId: config.CTRL_SENTINEL_ID,
    image: config.CTRL_IMAGE,
    settings: {
      maxBodyBytes: config.SENTINEL_MAX_BODY_BYTES,
      upstreamHeadersTimeoutMs: config.SENTINEL_UPSTREAM_HEADERS_TIMEOUT_MS,
      upstreamBodyTimeoutMs: config.SENTINEL_UPSTREAM_BODY_TIMEOUT_MS,
      maxAttempts: config.SENTINEL_MAX_ATTEMPTS,
      failureCooldownMs: config.SENTINEL_FAILURE_COOLDOWN_MS,
      missWaitMs: 500,
      connectTimeoutMs: config.SENTINEL_CONNECT_TIMEOUT_MS,
    },
  });
  const server = sentinel.createServer();
  // Frontline keeps connections alive; outlive its idle timeout so it never writes into a closing socket.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
  logger.info(
    { address: `${config.HOST}:${(server.address() as { port: number }).port}`, instances: instances.count() },
    "sentinel listening",
  );

  // Request counts at info level every 10 s when traffic changed, so logs stay quiet when idle.
  let lastLogged = 0;
  const summary = setInterval(() => {
    if (sentinel.stats.requests === lastLogged) return;
    lastLogged = sentinel.stats.requests;
    logger.info(
      {
        requests: sentinel.stats.requests,
        byStatusClass: sentinel.stats.byStatusClass,
        retries: sentinel.stats.retries,
        instances: instances.count(),
      },
      "request counts",
    );
  }, 10_000);
  summary.unref();

  let stopping = false;
  async function shutdown(signal: string) {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, requests: sentinel.stats.requests }, "sentinel shutting down");
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
    await instances.stop();
    await dispatcher.close();
    await db.destroy();
    process.exit(0);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
