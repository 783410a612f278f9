/**
 * The sentinel as the agent runs it: the esbuild bundle started with `node` from a directory without
 * node_modules, reading instances from a real MariaDB, forwarding to real upstream processes.
 * Guarantees: round robin across running instances; an instance that refuses connections is
 * skipped and the request retried on another; a SIGKILLed instance under load fails no request;
 * only the sentinel's own environment is reachable; an instance address outside the instance port
 * range (a control-plane port such as 127.0.0.1:9070) is never forwarded to; `/metrics` counts
 * each deployment's requests and 5xx the way the rollout analysis reads them.
 */
import { countersDelta, countersFor } from "@ctrl/rollout";
import {
  createTestDatabase,
  freePort,
  insertDeployment,
  insertInstance,
  newEdgeProject,
  startUpstream,
  upgradeEcho,
  waitFor,
  type TestDatabase,
  type Upstream,
} from "@ctrl/testing";
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleSentinelForTest, startSentinelProcess, type SentinelProcess } from "./fixtures.js";

let database: TestDatabase;
let sentinel: SentinelProcess;
const upstreams: Upstream[] = [];
const project = newEdgeProject();
const other = newEdgeProject();
let deploymentA: string;
let bundleDir: string;
let otherDeployment: string;

async function get(deploymentId: string | undefined, path = "/"): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${sentinel.address}${path}`, {
    headers: deploymentId ? { "x-ctrl-deployment-id": deploymentId, host: "app.ctrl.localhost" } : {},
  });
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  database = await createTestDatabase();
  const [bundled, ...started] = await Promise.all([
    bundleSentinelForTest(),
    startUpstream("a1"),
    startUpstream("a2"),
    startUpstream("a3"),
    startUpstream("other"),
  ]);
  upstreams.push(...started);
  bundleDir = bundled;
  deploymentA = await insertDeployment(database.db, project);
  for (const u of started.slice(0, 3)) await insertInstance(database.db, project, deploymentA, u.address);
  otherDeployment = await insertDeployment(database.db, other);
  await insertInstance(database.db, other, otherDeployment, started[3]!.address);
  sentinel = await startSentinelProcess(bundleDir, { databaseUrl: database.url, environmentId: project.environmentId });
});

afterAll(async () => {
  await sentinel?.process.stop();
  await Promise.all(upstreams.map((u) => u.process.stop()));
  await database?.drop();
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
});

describe("sentinel", () => {
  it("answers /_ctrl/health with its instance count and counters", async () => {
    const health = await sentinel.health();
    expect(health.instances).toBe(3);
    expect(typeof health.requests).toBe("number");
  });

  it("spreads requests round robin over the deployment's running instances", async () => {
    const seen: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      const res = await get(deploymentA);
      expect(res.status).toBe(200);
      seen[res.body] = (seen[res.body] ?? 0) + 1;
    }
    expect(seen).toEqual({ a1: 10, a2: 10, a3: 10 });
    const health = await sentinel.health();
    expect(health.byDeployment[deploymentA]).toBeGreaterThanOrEqual(30);
  });

  it("tunnels Upgrade (WebSocket) requests to an instance of the deployment", async () => {
    const answer = await upgradeEcho(
      `http://${sentinel.address}/socket`,
      { "x-ctrl-deployment-id": deploymentA, host: "app.ctrl.localhost" },
      "ping over the tunnel",
    );
    expect(["a1", "a2", "a3"]).toContain(answer.upstream);
    expect(answer.echoed).toBe("ping over the tunnel");
    await expect(upgradeEcho(`http://${sentinel.address}/socket`, { "x-ctrl-deployment-id": otherDeployment }, "x")).rejects.toMatchObject({
      status: 503,
    });
  });

  it("serves per-deployment request and 5xx counters on /metrics; with a deployment header /metrics is the app's", async () => {
    const read = async () => {
      const res = await fetch(`http://${sentinel.address}/metrics`);
      expect(res.headers.get("content-type")).toContain("text/plain");
      return res.text();
    };
    const before = await read();
    for (let i = 0; i < 20; i++) expect((await get(deploymentA)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await get(deploymentA, "/status/500")).status).toBe(500);
    expect((await get("d_nowhere")).status).toBe(503);
    const proxied = await get(deploymentA, "/metrics");
    expect(["a1", "a2", "a3"]).toContain(proxied.body);
    const after = await read();
    expect(countersDelta(countersFor([before], deploymentA), countersFor([after], deploymentA))).toMatchObject({ requests: 26, errors: 5 });
    expect(countersFor([after], "d_nowhere")).toMatchObject({ requests: 1, errors: 1 });
    expect(after).toContain('ctrl_http_request_duration_seconds_bucket{le="0.005",deployment_id="');
  });

  it("refuses requests without a deployment header and never reaches another environment", async () => {
    expect((await get(undefined, "/")).status).toBe(400);
    const foreign = await get(otherDeployment);
    expect(foreign.status).toBe(503);
    expect(foreign.body).not.toContain("other");
    expect((await get("d_doesnotexist")).status).toBe(503);
    expect((await get("bad id with spaces")).status).toBe(400);
  });

  it("skips an instance that refuses connections and retries the request on another", async () => {
    const deadPort = await freePort();
    const deploymentB = await insertDeployment(database.db, project);
    await insertInstance(database.db, project, deploymentB, `127.0.0.1:${deadPort}`);
    await insertInstance(database.db, project, deploymentB, upstreams[0]!.address);
    // Wait until the sentinel has loaded both instances of B (the instance count includes them).
    await waitForInstances(5);
    const before = (await sentinel.health()).retries;
    for (let i = 0; i < 10; i++) {
      const res = await get(deploymentB);
      expect(res.status).toBe(200);
      expect(res.body).toBe("a1");
    }
    // The dead instance was tried at most once per cooldown, then skipped.
    const retries = (await sentinel.health()).retries - before;
    expect(retries).toBeGreaterThanOrEqual(1);
    expect(retries).toBeLessThan(10);
  });

  it("loses no request when an instance is SIGKILLed under load", async () => {
    const victim = await startUpstream("victim");
    upstreams.push(victim);
    const deploymentC = await insertDeployment(database.db, project);
    await insertInstance(database.db, project, deploymentC, victim.address);
    await insertInstance(database.db, project, deploymentC, upstreams[1]!.address);
    await waitForInstances(7);

    let stop = false;
    const failures: string[] = [];
    const answers: Record<string, number> = {};
    const clients = Array.from({ length: 10 }, async () => {
      for (let n = 0; !stop && n < 2_000; n++) {
        try {
          const res = await get(deploymentC);
          if (res.status !== 200) failures.push(`${res.status} ${res.body}`);
          else answers[res.body] = (answers[res.body] ?? 0) + 1;
        } catch (err) {
          failures.push(String(err));
        }
      }
    });
    // Let traffic reach both instances, kill one by pid, and keep going until the survivor has
    // answered plenty after the kill.
    await waitForCondition(() => (answers.victim ?? 0) > 20);
    await victim.process.kill();
    const survivorAtKill = answers.a2 ?? 0;
    await waitForCondition(() => (answers.a2 ?? 0) > survivorAtKill + 200);
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
  });
});

describe("sentinel upstream port range", () => {
  it("never forwards to an instance address outside SENTINEL_UPSTREAM_PORT_RANGE (127.0.0.1:9070, any ephemeral port)", async () => {
    const fenced = newEdgeProject();
    const controlPlane = await startUpstream("control-plane"); // an ephemeral port: outside 20000-29999
    upstreams.push(controlPlane);
    const deploymentId = await insertDeployment(database.db, fenced);
    await insertInstance(database.db, fenced, deploymentId, "127.0.0.1:9070");
    await insertInstance(database.db, fenced, deploymentId, controlPlane.address);
    const narrow = await startSentinelProcess(bundleDir, {
      databaseUrl: database.url,
      environmentId: fenced.environmentId,
      upstreamPorts: "20000-29999",
    });
    try {
      await waitFor(
        "the refusal log lines",
        () =>
          [controlPlane.address, "127.0.0.1:9070"].every(
            (a) =>
              narrow.process.tail().includes(a) &&
              narrow.process.tail().includes("refusing instance address outside the instance port range"),
          ),
        { timeoutMs: 10_000 },
      );
      expect((await narrow.health()).instances).toBe(0);
      const res = await fetch(`http://${narrow.address}/`, { headers: { "x-ctrl-deployment-id": deploymentId } });
      expect(res.status).toBe(503);
      expect(await res.text()).not.toContain("control-plane");
    } finally {
      await narrow.process.stop();
    }
  });
});

describe("sentinel lifecycle", () => {
  it("exits when its database is dropped, instead of lingering as an orphan", async () => {
    const scratch = await createTestDatabase();
    const lonely = await startSentinelProcess(bundleDir, { databaseUrl: scratch.url, environmentId: "env_lonely" });
    await scratch.drop();
    const exit = await waitFor(
      "the orphaned sentinel to exit",
      () => (lonely.process.child.exitCode !== null ? lonely.process.exited : undefined),
      { timeoutMs: 15_000 },
    );
    expect(exit.code).toBe(1);
    expect(lonely.process.tail()).toContain("no longer exists");
  });
});

async function waitForInstances(count: number): Promise<void> {
  await waitFor(`sentinel to load ${count} instances`, async () => (await sentinel.health()).instances === count, { timeoutMs: 5_000 });
}

async function waitForCondition(check: () => boolean): Promise<void> {
  await waitFor("traffic condition", check, { timeoutMs: 20_000, intervalMs: 10 });
}
