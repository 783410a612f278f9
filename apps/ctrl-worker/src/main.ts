import "./polyfill.js";
import { buildSandboxTools } from "@ctrl/build";
import { createLogger } from "@ctrl/config";
import { createDb } from "@ctrl/db";
import { createStorage, s3ConfigFromEnv } from "@ctrl/s3";
import { loadWorkerConfig } from "./config.js";
import { versioningServiceName } from "./contract.js";
import { createEndpoint } from "./endpoint.js";
import { createHealthServer } from "./health.js";
import { keepRegistered, registerWithRestate } from "./register.js";
import { certificateDepsFromConfig, kickOffRenewal } from "./services/certificate-service/config.js";
import { readFileSync } from "node:fs";
import { settingsFromConfig } from "./settings.js";
import { buildConfigFromConfig } from "./services/build-service/config.js";

// Composition root: the only place that reads the environment, opens pools and listens.
const config = loadWorkerConfig();
const logger = createLogger({ service: "ctrl-worker", level: config.LOG_LEVEL });
const db = createDb({ url: config.DATABASE_URL });
const storage = createStorage(s3ConfigFromEnv(config));
const certificates = certificateDepsFromConfig(config, config.ACME_CA_FILE ? readFileSync(config.ACME_CA_FILE, "utf8") : undefined);
if (!certificates) logger.warn("VAULT_MASTER_KEYS is unset: certificate issuance is disabled");
const build = buildConfigFromConfig(config);
if (!build) logger.warn("BUILD_BACKEND=none: deploys from a build context will fail with build_not_configured");
const domainVerification = {
  resolvers: config.DNS_RESOLVER,
  lookupTimeoutMs: config.DNS_LOOKUP_TIMEOUT_MS,
  windowMs: config.DOMAIN_VERIFICATION_WINDOW_MS,
  firstRecheckMs: config.DOMAIN_VERIFICATION_FIRST_RECHECK_MS,
  maxRecheckMs: config.DOMAIN_VERIFICATION_MAX_RECHECK_MS,
};
if (config.RESTATE_IDENTITY_KEYS.length === 0) {
  logger.warn(
    { variable: "RESTATE_IDENTITY_KEYS" },
    "RESTATE_IDENTITY_KEYS=insecure-accept-unsigned: the endpoint accepts unsigned invocations; anyone who can reach it can run any handler",
  );
}
if (build?.backend === "local") {
  // Tenant build commands run only sandboxed: say now (not at the first build) when that cannot work.
  if (build.sandbox === "none")
    logger.warn(
      "BUILD_SANDBOX=none: build commands (npm ci, npm run build) run WITHOUT a sandbox, as the worker's own user, and can read its environment, files and network. Use only on a trusted single-user machine.",
    );
  else {
    try {
      buildSandboxTools();
    } catch (err) {
      logger.error(
        { err: (err as Error).message },
        "the build sandbox is unavailable: every context build will fail until bubblewrap is installed",
      );
    }
  }
}
const endpoint = createEndpoint(
  { db, storage, logger, settings: settingsFromConfig(config), certificates, build, domainVerification },
  { identityKeys: config.RESTATE_IDENTITY_KEYS },
);
const port = await endpoint.listen(config.WORKER_PORT, config.WORKER_HOST);
const endpointUrl = config.WORKER_ADVERTISED_URL ?? `http://${config.WORKER_HOST}:${port}`;
let registered = !config.RESTATE_REGISTER;
const health = createHealthServer(() => ({ registered }));
await new Promise<void>((resolve) => health.listen(config.WORKER_HEALTH_PORT, config.WORKER_HOST, resolve));
logger.info({ endpointUrl, healthPort: (health.address() as { port: number }).port }, "ctrl-worker listening");

const abort = new AbortController();
if (config.RESTATE_REGISTER) {
  registerWithRestate(config.RESTATE_ADMIN_URL, endpointUrl, logger, abort.signal)
    .then(() => {
      registered = true;
      if (config.RESTATE_REGISTRATION_CHECK_MS > 0) {
        void keepRegistered(
          config.RESTATE_ADMIN_URL,
          endpointUrl,
          versioningServiceName,
          logger,
          abort.signal,
          config.RESTATE_REGISTRATION_CHECK_MS,
        );
      }
      if (certificates)
        kickOffRenewal(config.RESTATE_INGRESS_URL).catch((err) =>
          logger.error({ err: (err as Error).message }, "certificate renewal job not started"),
        );
    })
    .catch((err) => logger.error({ err: (err as Error).message }, "registration aborted"));
}

/** How long a graceful stop may take before the process exits anyway. */
const shutdownGraceMs = 10_000;
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  // Graceful, but bounded: a stuck connection or query must not keep a stopped process alive. Armed
  // before anything that could throw (a log write to a pipe whose reader died, say).
  setTimeout(() => {
    try {
      logger.warn({ signal, graceMs: shutdownGraceMs }, "ctrl-worker did not stop in time; exiting");
    } finally {
      process.exit(1);
    }
  }, shutdownGraceMs).unref();
  logger.info({ signal }, "ctrl-worker shutting down");
  abort.abort();
  health.close();
  await endpoint.close();
  await db.destroy();
  storage.destroy();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
