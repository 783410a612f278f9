/**
 * The real worker process (`src/main.ts` as a child) against a real restate-server and MariaDB.
 * Guarantees: a worker killed with SIGKILL and started again on the same port re-registers and serves
 * again, including an invocation that was accepted while it was dead; versions keep increasing across
 * the crash; a worker started while Restate is down says so in its log, stays unhealthy, and registers
 * by itself once Restate comes up, and again after Restate lost its data; SIGTERM shuts it down cleanly (exit 0) despite Restate's open session.
 */
import { newId } from "@ctrl/db";
import {
  createTestDatabase,
  exposeServicesForTest,
  startRestate,
  startWorkerProcess,
  waitFor,
  type RestateServer,
  type TestDatabase,
  type WorkerProcess,
} from "@ctrl/testing";
import * as clients from "@restatedev/restate-sdk-clients";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { VersioningServiceApi } from "../src/api.js";

const entry = fileURLToPath(new URL("../src/main.ts", import.meta.url));

let database: TestDatabase;
let restate: RestateServer;
let rs: clients.Ingress;
/** Every worker this file started, so a failing test still leaves no process behind. */
const started: WorkerProcess[] = [];

beforeAll(async () => {
  [database, restate] = await Promise.all([
    createTestDatabase(),
    // Retry a failed invocation soon after the worker is back instead of after a long backoff.
    startRestate({ env: { RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS: "1000", RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL: "500ms" } }),
  ]);
  rs = clients.connect({ url: restate.ingressUrl });
}, 60_000);

afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.kill()));
});

afterAll(async () => {
  await restate?.dispose();
  await database?.drop();
});

function startWorker(options: { port?: number; healthPort?: number; env?: Record<string, string> } = {}) {
  const worker = startWorkerProcess({
    entry,
    port: options.port,
    healthPort: options.healthPort,
    env: {
      DATABASE_URL: database.url,
      RESTATE_ADMIN_URL: restate.adminUrl,
      RESTATE_INGRESS_URL: restate.ingressUrl,
      RESTATE_IDENTITY_KEYS: restate.identityKeys.join(","),
      // Required (no default secret); this test never reaches S3.
      S3_ACCESS_KEY_ID: "unused-by-this-test",
      S3_SECRET_ACCESS_KEY: "unused-by-this-test",
      LOG_LEVEL: "info",
      RESTATE_LOGGING: "WARN",
      ...options.env,
    },
    onLine: process.env.TEST_WORKER_OUTPUT ? (line) => console.log(`[worker] ${line}`) : undefined,
  });
  return worker.then((w) => (started.push(w), w));
}

const versioning = (region: string) => rs.objectClient<VersioningServiceApi>({ name: "VersioningService" }, region);
/** VersioningService is ingress-private; these tests drive it directly, so open it after each registration. */
const exposeVersioning = () => exposeServicesForTest(restate.adminUrl, ["VersioningService"]);

// Each test starts the worker (tsx compiles main.ts) once or twice: on a loaded 2-core machine that
// alone can take several seconds, so these get more than vitest's default budget.
const processTestTimeoutMs = 120_000;

describe("ctrl-worker as a process", () => {
  it(
    "re-registers and serves again after SIGKILL, including work accepted while it was dead",
    async () => {
      const region = `crash-${newId("req").slice(4, 12)}`;
      const first = await startWorker();
      await first.waitHealthy();
      await first.waitForLine(/registered with restate/);
      await exposeVersioning();
      const before = [await versioning(region).nextVersion(), await versioning(region).nextVersion()];
      expect(before).toEqual([1, 2]);

      await first.kill();
      expect(first.process.child.signalCode).toBe("SIGKILL");
      // Nothing answers on its ports any more (kill() waited for that): a crash, not a shutdown.
      await expect(fetch(first.healthUrl)).rejects.toThrow();
      expect(first.lines().some((l) => l.includes("shutting down"))).toBe(false);

      // Restate accepts an invocation while the worker is dead and keeps retrying it.
      const pending = await rs
        .objectSendClient<VersioningServiceApi>({ name: "VersioningService" }, region)
        .nextVersion(clients.rpc.sendOpts({ idempotencyKey: `while-dead-${region}` }));

      const second = await startWorker({ port: first.port, healthPort: first.healthPort });
      expect(second.pid).not.toBe(first.pid);
      await second.waitHealthy();
      await second.waitForLine(/registered with restate/);
      await exposeVersioning();

      const whileDead = await rs.result(pending);
      const after = await versioning(region).nextVersion();
      expect(whileDead).toBeGreaterThan(2);
      expect(after).toBeGreaterThan(whileDead);
      expect([...before, whileDead, after]).toEqual([1, 2, 3, 4]);
      const counter = await database.db
        .selectFrom("region_versions")
        .select("version")
        .where("region", "=", region)
        .executeTakeFirstOrThrow();
      expect(Number(counter.version)).toBe(4);
    },
    processTestTimeoutMs,
  );

  it(
    "shuts down cleanly on SIGTERM although restate-server holds an HTTP/2 session to it",
    async () => {
      const worker = await startWorker();
      await worker.waitHealthy();
      await exposeVersioning();
      // An invocation makes restate-server open (and keep) its HTTP/2 session to the endpoint.
      expect(await versioning(`term-${newId("req").slice(4, 12)}`).nextVersion()).toBe(1);
      await worker.stop(15_000);
      // Exit code 0 means main.ts's shutdown ran to the end; a SIGKILL after the grace would show as a signal.
      expect(await worker.process.exited).toEqual({ code: 0, signal: null });
      await worker.waitForLine(/ctrl-worker shutting down/);
    },
    processTestTimeoutMs,
  );

  it(
    "registers again by itself when restate-server loses its data",
    async () => {
      const worker = await startWorker({ env: { RESTATE_REGISTRATION_CHECK_MS: "200" } });
      await worker.waitHealthy();
      const region = `forgot-${newId("req").slice(4, 12)}`;
      await exposeVersioning();
      expect(await versioning(region).nextVersion()).toBe(1);

      await restate.restart({ wipe: true });
      // Nobody registers it but the worker itself; the counter in MySQL carries the version on.
      const next = await waitFor(
        "the worker to re-register with the wiped restate-server",
        async () => (await exposeVersioning(), await versioning(region).nextVersion()),
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(next).toBe(2);
      await worker.waitForLine(/registering again/);
    },
    processTestTimeoutMs,
  );

  it(
    "says Restate is unreachable when started without it, then registers once it comes up",
    async () => {
      await restate.stop();
      try {
        const worker = await startWorker();
        const line = await worker.waitForLine(/restate admin API unreachable/);
        const logged = JSON.parse(line) as { level: number; adminUrl: string; msg: string; err: string };
        expect(logged.adminUrl).toBe(restate.adminUrl);
        expect(logged.err).toBe("ECONNREFUSED");
        expect(logged.msg).toMatch(/is restate-server running\? retrying/);
        // Up (the endpoint listens) but not ready: health says so until the registration succeeds.
        const health = await fetch(worker.healthUrl);
        expect(health.status).toBe(503);
        expect(await health.json()).toMatchObject({ status: "starting", registered: false });
      } finally {
        await restate.restart();
      }
      const worker = started[started.length - 1]!;
      await worker.waitHealthy(30_000);
      await worker.waitForLine(/registered with restate/);
      const region = `late-${newId("req").slice(4, 12)}`;
      await exposeVersioning();
      expect(await versioning(region).nextVersion()).toBe(1);
    },
    processTestTimeoutMs,
  );
});
