/**
 * Starting frontline for tests: in-process (the same objects main.ts builds, on a free port) or as
 * a real process (`tsx src/main.ts`) for end-to-end tests with the agent.
 */
import type { Db } from "@ctrl/db";
import { createUpstreamPool, type PortRange } from "@ctrl/proxy";
import { freePort, startProcess, waitFor, type ManagedProcess } from "@ctrl/testing";
import type { Server } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino, type Logger } from "pino";
import type { AcmeVerifier } from "../src/acme.js";
import { createFrontline, type Frontline, type FrontlineSettings } from "../src/frontline.js";
import { startRouteTable, type RouteTable } from "../src/route-table.js";

const appDir = resolveAppDir();
function resolveAppDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..");
}

/** A frontline running inside the test process. */
export interface InProcessFrontline {
  url: string;
  port: number;
  frontline: Frontline;
  routes: RouteTable;
  server: Server;
  close(): Promise<void>;
}

/** Defaults that keep tests quick; each test overrides what it examines. */
export const testSettings: FrontlineSettings = {
  mode: "auto",
  maxBodyBytes: 64 * 1024 * 1024,
  upstreamHeadersTimeoutMs: 10_000,
  upstreamBodyTimeoutMs: 10_000,
  maxAttempts: 3,
  missWaitMs: 500,
  failureCooldownMs: 2_000,
  trustForwarded: false,
};

/** Starts frontline in-process against `db` on a free port. */
export async function startFrontlineInProcess(options: {
  db: Db;
  settings?: Partial<FrontlineSettings>;
  acme?: AcmeVerifier;
  region?: string;
  pollIntervalMs?: number;
  upstreamPorts?: PortRange;
  logger?: Logger;
}): Promise<InProcessFrontline> {
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  // In-test upstreams listen on ephemeral ports (32768+), outside krane's default range: allow every
  // unprivileged port unless a test examines the range itself.
  const routes = await startRouteTable({
    db: options.db,
    region: options.region ?? "local",
    logger,
    pollIntervalMs: options.pollIntervalMs ?? 100,
    fullReloadMs: 30_000,
    upstreamPorts: options.upstreamPorts ?? { low: 1024, high: 65535 },
  });
  const dispatcher = createUpstreamPool({ connectTimeoutMs: 1_000 });
  const frontline = createFrontline({
    routes,
    dispatcher,
    logger,
    settings: { ...testSettings, ...options.settings },
    ...(options.acme ? { acme: options.acme } : {}),
  });
  const server = frontline.createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    frontline,
    routes,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await routes.stop();
      await dispatcher.close();
    },
  };
}

/** A frontline running as its own process (`tsx src/main.ts`). */
export interface FrontlineProcess {
  url: string;
  port: number;
  process: ManagedProcess;
}

/** Starts `src/main.ts` as a child process with `env` (DATABASE_URL at least) on a free port. */
export async function startFrontlineProcess(env: Record<string, string>): Promise<FrontlineProcess> {
  const port = await freePort();
  const tsx = join(appDir, "../../node_modules/.bin/tsx");
  const proc = startProcess("frontline", tsx, [join(appDir, "src/main.ts")], {
    cwd: appDir,
    env: { ...process.env, PORT: String(port), LOG_LEVEL: "info", FRONTLINE_POLL_INTERVAL_MS: "100", ...env },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `frontline on ${port}`,
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`frontline exited: ${proc.tail()}`);
      return (await fetch(`${url}/_ctrl/health`)).status === 200;
    },
    { timeoutMs: 20_000, intervalMs: 50 },
  );
  return { url, port, process: proc };
}
