/**
 * `FRONTLINE_UPSTREAM=sentinel` is strict: traffic goes through the environment's sentinel or not at
 * all — never straight to an instance, not when the sentinel row is missing, unhealthy or its address
 * refuses connections (where `auto` would fall back). Real MariaDB rows, real HTTP upstreams that
 * count what reaches them, frontline in-process on a real port, one frontline per mode.
 */
import {
  createTestDatabase,
  freePort,
  insertDeployment,
  insertInstance,
  newEdgeProject,
  setRoute,
  setSentinel,
  waitFor,
  type EdgeProject,
  type TestDatabase,
} from "@ctrl/testing";
import { createServer, type Server } from "node:http";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFrontlineInProcess, type InProcessFrontline } from "./harness.js";

let database: TestDatabase;
let strict: InProcessFrontline;
let auto: InProcessFrontline;
const servers: Server[] = [];

/** An upstream that answers `name` and counts its requests. */
async function counting(name: string): Promise<{ address: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on("end", () => res.end(name));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push(server);
  return { address: `127.0.0.1:${(server.address() as { port: number }).port}`, hits: () => hits };
}

async function call(frontline: InProcessFrontline, host: string) {
  const res = await request(`${frontline.url}/`, { headers: { host } });
  return { status: res.statusCode, body: await res.body.text() };
}

/** A routed deployment of its own environment with one running instance. */
async function routedEnvironment(host: string) {
  const project: EdgeProject = newEdgeProject();
  const instance = await counting("instance");
  const deploymentId = await insertDeployment(database.db, project);
  await insertInstance(database.db, project, deploymentId, instance.address);
  await setRoute(database.db, project, host, deploymentId);
  return { project, instance };
}

/** Waits until both frontlines loaded `host` (its route and whatever sentinel row it has now). */
async function loaded(host: string, sentinelHealthy?: boolean) {
  for (const f of [strict, auto]) {
    await waitFor(
      `${host} loaded`,
      () => {
        const snap = f.routes.snapshot();
        const route = snap.routes.get(host);
        if (!route) return false;
        return sentinelHealthy === undefined || snap.sentinels.get(route.environmentId)?.healthy === sentinelHealthy;
      },
      { timeoutMs: 10_000, intervalMs: 10 },
    );
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  [strict, auto] = await Promise.all([
    startFrontlineInProcess({ db: database.db, settings: { mode: "sentinel", missWaitMs: 200 } }),
    startFrontlineInProcess({ db: database.db, settings: { mode: "auto", missWaitMs: 200 } }),
  ]);
});

afterAll(async () => {
  await Promise.all([strict?.close(), auto?.close()]);
  for (const s of servers) s.closeAllConnections(), s.close();
  await database?.drop();
});

describe("FRONTLINE_UPSTREAM=sentinel (strict)", () => {
  it("answers 503 without a sentinel row and never reaches the instance (auto goes direct)", async () => {
    const { instance } = await routedEnvironment("nosentinel.ctrl.localhost");
    await loaded("nosentinel.ctrl.localhost");
    expect((await call(strict, "nosentinel.ctrl.localhost")).status).toBe(503);
    expect(instance.hits()).toBe(0);
    expect(await call(auto, "nosentinel.ctrl.localhost")).toEqual({ status: 200, body: "instance" });
    expect(instance.hits()).toBe(1);
  });

  it("answers 503 while the sentinel is unhealthy, and never reaches the instance", async () => {
    const { project, instance } = await routedEnvironment("sicksentinel.ctrl.localhost");
    const sentinel = await counting("sentinel");
    await setSentinel(database.db, project, [sentinel.address], "unhealthy");
    await loaded("sicksentinel.ctrl.localhost", false);
    expect((await call(strict, "sicksentinel.ctrl.localhost")).status).toBe(503);
    expect(instance.hits() + sentinel.hits()).toBe(0);
  });

  it("goes through a healthy sentinel, and with its address dead answers 502 instead of falling back", async () => {
    const { project, instance } = await routedEnvironment("viasentinel.ctrl.localhost");
    const sentinel = await counting("sentinel");
    await setSentinel(database.db, project, [sentinel.address], "healthy");
    await loaded("viasentinel.ctrl.localhost", true);
    expect(await call(strict, "viasentinel.ctrl.localhost")).toEqual({ status: 200, body: "sentinel" });
    expect(instance.hits()).toBe(0);

    // The sentinel's address stops accepting connections: strict fails, auto falls back to the instance.
    await setSentinel(database.db, project, [`127.0.0.1:${await freePort()}`], "healthy");
    await Promise.all(
      [strict, auto].map((f) =>
        waitFor(
          "the new sentinel address",
          () => f.routes.snapshot().sentinels.get(project.environmentId)?.addresses[0] !== sentinel.address,
          { timeoutMs: 10_000, intervalMs: 10 },
        ),
      ),
    );
    expect((await call(strict, "viasentinel.ctrl.localhost")).status).toBe(502);
    expect(instance.hits()).toBe(0);
    expect(await call(auto, "viasentinel.ctrl.localhost")).toEqual({ status: 200, body: "instance" });
  });
});
