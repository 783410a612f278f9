/**
 * krane: the per-region agent. Reads its config from the environment (src/config.ts), adopts what
 * a previous run left in its data directory, streams desired state from ctrl-api and reports back.
 * SIGTERM/SIGINT stop the agent but leave instances running (the next agent adopts them), unless
 * KRANE_STOP_INSTANCES_ON_EXIT is set (the local stack).
 */
import { createLogger } from "@ctrl/config";
import { findSandboxTools, SandboxUnavailableError, type SandboxTools } from "@ctrl/sandbox";
import { createStorage, s3ConfigFromEnv } from "@ctrl/s3";
import { Vault } from "@ctrl/vault";
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { createAgent } from "./agent.js";
import { createClusterClient } from "./cluster-client.js";
import { loadKraneConfig } from "./config.js";
import { ProcessDriver } from "./drivers/process/driver.js";
import { createAgentHttpServer } from "./http.js";
import { instanceBaseEnv } from "./instance-env.js";
import { decryptEnv } from "./sync/env.js";

const config = loadKraneConfig();
// Every line carries the region.
const logger = createLogger({ service: "krane", level: config.LOG_LEVEL, base: { region: config.KRANE_REGION } });
const dataDir = resolve(config.KRANE_DATA_DIR);
await mkdir(dataDir, { recursive: true });

const storage = createStorage(s3ConfigFromEnv(config));

// Instances inherit only what a program needs to run, never the agent's token or S3 keys.
const baseEnv = instanceBaseEnv(process.env);

// Tenant code runs only in the sandbox unless the operator opted out (the driver warns at every start).
let sandbox: SandboxTools | "none" = "none";
if (config.KRANE_SANDBOX === "bwrap") {
  try {
    sandbox = findSandboxTools("KRANE_SANDBOX=none");
  } catch (err) {
    if (!(err instanceof SandboxUnavailableError)) throw err;
    logger.fatal(`krane: ${err.message}`);
    process.exit(1);
  }
}
const vault = config.KRANE_VAULT_MASTER_KEYS ? Vault.fromSpec(config.KRANE_VAULT_MASTER_KEYS) : undefined;

const driver = new ProcessDriver({
  sandbox,
  sandboxLimits: {
    processes: config.KRANE_SANDBOX_MAX_PROCESSES,
    fileSizeBytes: config.KRANE_SANDBOX_MAX_FILE_BYTES,
    tmpBytes: config.KRANE_SANDBOX_TMP_BYTES,
  },
  // Spec files keep the variables encrypted; a restarted agent decrypts them again at launch.
  decryptEnv: (w) => {
    const out = decryptEnv(Buffer.from(w.encryptedEnv ?? "", "base64"), w.id, vault);
    return "error" in out ? out : { env: out.env };
  },
  dataDir,
  storage,
  region: config.KRANE_REGION,
  portRange: config.KRANE_PORT_RANGE,
  advertiseHost: config.KRANE_ADVERTISE_HOST,
  logger,
  logMaxBytes: config.KRANE_LOG_MAX_BYTES,
  logKeep: config.KRANE_LOG_KEEP,
  // Sentinels forward only to this agent's instance ports (never a control-plane port) unless told otherwise.
  sentinelEnv: {
    SENTINEL_UPSTREAM_PORT_RANGE: `${config.KRANE_PORT_RANGE.low}-${config.KRANE_PORT_RANGE.high}`,
    ...config.KRANE_SENTINEL_ENV,
  },
  baseEnv,
  policy: {
    restartBackoffMs: config.KRANE_RESTART_BACKOFF_MS,
    restartBackoffMaxMs: config.KRANE_RESTART_BACKOFF_MAX_MS,
    maxRestarts: config.KRANE_MAX_RESTARTS,
    stableAfterMs: config.KRANE_STABLE_AFTER_MS,
    healthIntervalMs: config.KRANE_HEALTH_INTERVAL_MS,
    livenessIntervalMs: 5_000,
    livenessFailures: 3,
    stopGraceMs: config.KRANE_STOP_GRACE_MS,
    adoptedPollMs: 500,
  },
});

const agent = createAgent({
  client: createClusterClient(config.KRANE_CONTROL_PLANE_URL, config.KRANE_TOKEN, config.KRANE_REGION),
  driver,
  region: config.KRANE_REGION,
  dataDir,
  logger,
  resyncIntervalMs: config.KRANE_RESYNC_INTERVAL_MS,
  output: driver,
  logShipIntervalMs: config.KRANE_LOG_SHIP_INTERVAL_MS,
  ...(vault ? { vault } : {}),
});
await agent.start();

let httpServer: ReturnType<typeof createAgentHttpServer> | undefined;
if (config.KRANE_HTTP_PORT >= 0) {
  httpServer = createAgentHttpServer({ token: config.KRANE_TOKEN, status: agent.status, logs: (i, n) => driver.logs(i, n) });
  await new Promise<void>((ok) => httpServer!.listen(config.KRANE_HTTP_PORT, config.KRANE_HTTP_HOST, ok));
  const address = httpServer.address();
  // One parseable line so scripts and tests can find the endpoint when the port was 0.
  logger.info({ httpPort: typeof address === "object" && address ? address.port : undefined }, "agent http listening");
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "stopping agent (instances keep running)");
  const force = setTimeout(() => process.exit(1), 10_000 + (config.KRANE_STOP_INSTANCES_ON_EXIT ? config.KRANE_STOP_GRACE_MS : 0));
  force.unref();
  httpServer?.closeAllConnections();
  await new Promise<void>((ok) => (httpServer ? httpServer.close(() => ok()) : ok()));
  await agent.stop();
  if (config.KRANE_STOP_INSTANCES_ON_EXIT) {
    logger.info("stopping every instance (KRANE_STOP_INSTANCES_ON_EXIT)");
    await driver.stopInstances();
  }
  storage.destroy();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
