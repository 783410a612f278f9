/**
 * Frontline never forwards to a control-plane port: an instance or sentinel address whose port is
 * outside the instance port range (krane's KRANE_PORT_RANGE, default 20000-29999) is treated as no
 * upstream (503) with a log line, even when the row is in the database and something listens there.
 * Real MariaDB, real HTTP listeners standing in for control-plane ports.
 */
import {
  createTestDatabase,
  insertDeployment,
  insertInstance,
  newEdgeProject,
  setRoute,
  setSentinel,
  waitFor,
  type TestDatabase,
} from "@ctrl/testing";
import { createServer, type Server } from "node:http";
import { pino } from "pino";
import { Writable } from "node:stream";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFrontlineInProcess, type InProcessFrontline } from "./harness.js";

let database: TestDatabase;
let frontline: InProcessFrontline;
/** A listener on an ephemeral port (outside 20000-29999), standing in for a control-plane service. */
let controlPlane: Server;
let controlPlaneAddress: string;
let controlPlaneHits = 0;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  controlPlane = createServer((req, res) => {
    controlPlaneHits++;
    res.end("restate admin");
  });
  await new Promise<void>((resolve) => controlPlane.listen(0, "127.0.0.1", resolve));
  controlPlaneAddress = `127.0.0.1:${(controlPlane.address() as { port: number }).port}`;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n")) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  frontline = await startFrontlineInProcess({
    db: database.db,
    upstreamPorts: { low: 20000, high: 29999 },
    logger: pino({ level: "warn" }, sink),
    settings: { missWaitMs: 0 },
  });
}, 60_000);
afterAll(async () => {
  await frontline?.close();
  await new Promise<void>((resolve) => (controlPlane ? controlPlane.close(() => resolve()) : resolve()));
  await database?.drop();
});

// undici's request, not fetch: fetch does not let a caller set Host.
const get = async (host: string) => {
  const res = await request(`${frontline.url}/`, { headers: { host } });
  return { status: res.statusCode, body: await res.body.text() };
};

describe("upstream port range", () => {
  it("an instance row of 127.0.0.1:9070 (Restate admin) or any port outside the range is never proxied", async () => {
    const project = newEdgeProject();
    const deploymentId = await insertDeployment(database.db, project);
    await insertInstance(database.db, project, deploymentId, "127.0.0.1:9070");
    await insertInstance(database.db, project, deploymentId, controlPlaneAddress);
    await setRoute(database.db, project, "admin.ctrl.localhost", deploymentId);
    await waitFor("the route to load", () => frontline.routes.snapshot().routes.has("admin.ctrl.localhost"));
    await waitFor("the refusal log lines", () =>
      [controlPlaneAddress, "127.0.0.1:9070"].every((a) => logLines.some((l) => l.address === a && l.deploymentId === deploymentId)),
    );
    expect(frontline.routes.snapshot().instances.get(deploymentId) ?? []).toEqual([]);
    const res = await get("admin.ctrl.localhost");
    expect(res.status).toBe(503);
    expect(res.body).not.toContain("restate admin");
    expect(controlPlaneHits).toBe(0);
    expect(logLines.find((l) => l.address === "127.0.0.1:9070")).toMatchObject({
      msg: expect.stringContaining("refusing instance address outside the instance port range"),
      allowedPorts: "20000-29999",
    });
  });

  it("a sentinel address outside the range is dropped the same way", async () => {
    const project = newEdgeProject();
    const deploymentId = await insertDeployment(database.db, project);
    const sentinelId = await setSentinel(database.db, project, [controlPlaneAddress]);
    await setRoute(database.db, project, "via-sentinel.ctrl.localhost", deploymentId);
    await waitFor("the sentinel refusal", () => logLines.some((l) => l.sentinelId === sentinelId && l.address === controlPlaneAddress));
    expect(frontline.routes.snapshot().sentinels.get(project.environmentId)).toMatchObject({ healthy: false, addresses: [] });
    expect((await get("via-sentinel.ctrl.localhost")).status).toBe(503);
    expect(controlPlaneHits).toBe(0);
  });
});
