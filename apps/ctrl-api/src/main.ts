import { createLogger } from "@ctrl/config";
import { createDb } from "@ctrl/db";
import { createStorage, s3ConfigFromEnv } from "@ctrl/s3";
import { parseRegionKeys, Vault } from "@ctrl/vault";
import * as clients from "@restatedev/restate-sdk-clients";
import { loadApiConfig } from "./config.js";
import { buildServer } from "./server.js";
import { startPendingSweeper } from "./deployment-model/resubmit-pending.js";

// Composition root: the only place that reads the environment, opens pools and listens.
const config = loadApiConfig();
// Key/value JSON lines with the request id; never a secret or a presigned URL's signature.
const logger = createLogger({
  service: "ctrl-api",
  level: config.LOG_LEVEL,
  redact: ["req.headers.authorization", "headers.authorization", "uploadUrl"],
});
const db = createDb({ url: config.DATABASE_URL });
const storage = createStorage(s3ConfigFromEnv(config));
await storage.ensureBucket();
const restate = clients.connect({ url: config.RESTATE_INGRESS_URL });
const deps = {
  db,
  storage,
  restate,
  logger,
  operatorToken: config.CTRL_OPERATOR_TOKEN,
  frontlineToken: config.CTRL_FRONTLINE_TOKEN,
  version: process.env.npm_package_version ?? "dev",
  instanceId: config.INSTANCE_ID,
  clusterWatchPollMs: config.CLUSTER_WATCH_POLL_MS,
  deploymentWatchPollMs: config.DEPLOYMENT_WATCH_POLL_MS,
  apexDomain: config.APEX_DOMAIN,
  ...(config.VAULT_MASTER_KEYS ? { vault: Vault.fromSpec(config.VAULT_MASTER_KEYS) } : {}),
  ...(config.VAULT_REGION_KEYS ? { regionVaults: parseRegionKeys(config.VAULT_REGION_KEYS) } : {}),
};

const http1 = await buildServer(deps);
await http1.listen({ port: config.PORT, host: config.HOST });
const grpc = config.GRPC_PORT >= 0 ? await buildServer(deps, { http2: true }) : undefined;
if (grpc) await grpc.listen({ port: config.GRPC_PORT, host: config.HOST });
logger.info(
  {
    http: `http://${config.HOST}:${(http1.server.address() as { port: number }).port}`,
    grpc: grpc ? `http://${config.HOST}:${(grpc.server.address() as { port: number }).port}` : null,
  },
  "ctrl-api listening",
);

/** How long a graceful stop may take before the process exits anyway. */
const shutdownGraceMs = 10_000;
let stopping = false;
// Resubmits deployments left `pending` by a crash between insert and workflow submit.
const stopPendingSweeper =
  config.PENDING_SWEEP_INTERVAL_MS > 0
    ? startPendingSweeper(deps, { intervalMs: config.PENDING_SWEEP_INTERVAL_MS, olderThanMs: config.PENDING_SWEEP_AFTER_MS })
    : () => {};

async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  // Graceful, but bounded: a stuck connection or query must not keep a stopped process alive. Armed
  // before anything that could throw (a log write to a pipe whose reader died, say).
  setTimeout(() => {
    try {
      logger.warn({ signal, graceMs: shutdownGraceMs }, "ctrl-api did not stop in time; exiting");
    } finally {
      process.exit(1);
    }
  }, shutdownGraceMs).unref();
  logger.info({ signal }, "ctrl-api shutting down");
  await Promise.all([http1.close(), grpc?.close()]);
  stopPendingSweeper();
  await db.destroy();
  storage.destroy();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
