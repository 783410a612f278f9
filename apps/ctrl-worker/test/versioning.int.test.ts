// Long because the versioning cases share one restate-server and worker.
/**
 * VersioningService through the real Restate ingress, with a real restate-server and MariaDB.
 * Guarantees (docs/architecture.md "Versions"): concurrent allocations in one region are distinct and
 * consecutive; regions are independent; a versioned commit is idempotent; and versions keep
 * increasing after Restate loses all its state (data dir wiped) and even when the MySQL counter row
 * is gone too (recovered from MAX(version)).
 */
import "../src/polyfill.js";
import { newId, sql, type Db } from "@ctrl/db";
import {
  createTestDatabase,
  exposeServicesForTest,
  registerDeployment,
  startRestate,
  waitFor,
  type RestateServer,
  type TestDatabase,
} from "@ctrl/testing";
import * as clients from "@restatedev/restate-sdk-clients";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SentinelChange, TopologyChange, VersioningServiceApi } from "../src/api.js";
import { createEndpoint, type WorkerEndpoint } from "../src/endpoint.js";
import { insertDeployment } from "./deploy-harness.js";

let database: TestDatabase;
let db: Db;
let restate: RestateServer;
let endpoint: WorkerEndpoint;
let endpointUrl: string;
let rs: clients.Ingress;

beforeAll(async () => {
  [database, restate] = await Promise.all([
    createTestDatabase(),
    startRestate({ env: { RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS: "1000" } }),
  ]);
  db = database.db;
  endpoint = createEndpoint(
    { db, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }) },
    { identityKeys: restate.identityKeys },
  );
  endpointUrl = `http://127.0.0.1:${await endpoint.listen(0, "127.0.0.1")}`;
  await registerDeployment(restate.adminUrl, endpointUrl);
  // VersioningService is ingress-private (only other services call it); this file drives it directly.
  await exposeServicesForTest(restate.adminUrl, ["VersioningService"]);
  rs = clients.connect({ url: restate.ingressUrl });
}, 60_000);

afterAll(async () => {
  await endpoint?.close(500);
  await restate?.dispose();
  await database?.drop();
});

const versioning = (region: string) => rs.objectClient<VersioningServiceApi>({ name: "VersioningService" }, region);

/** Unique per test so tests never share a region's counter. */
const region = (name: string) => `${name}-${newId("req").slice(4, 12)}`;

/** A deployment row of workspace `ws_test`: topology is committed only for existing deployments. */
const deployment = () => insertDeployment(db, { workspaceId: "ws_test", projectId: "proj_test", environmentId: "env_test" });

const topology = (deploymentId: string, desiredReplicas = 1): TopologyChange => ({
  workspaceId: "ws_test",
  deploymentId,
  desiredReplicas,
  desiredStatus: "running",
});

/** Every version committed in the region's versioned tables. */
async function committedVersions(r: string): Promise<number[]> {
  const rows = await sql<{ v: number }>`
    SELECT version AS v FROM deployment_topology WHERE region = ${r}
    UNION ALL SELECT version AS v FROM sentinels WHERE region = ${r}`.execute(db);
  return rows.rows.map((row) => Number(row.v));
}

async function counterRow(r: string): Promise<number | undefined> {
  const row = await db.selectFrom("region_versions").select("version").where("region", "=", r).executeTakeFirst();
  return row === undefined ? undefined : Number(row.version);
}

describe("VersioningService", () => {
  it("gives 50 concurrent nextVersion calls for one region 50 distinct consecutive numbers", async () => {
    const r = region("concurrent");
    const versions = await Promise.all(Array.from({ length: 50 }, () => versioning(r).nextVersion()));
    const sorted = [...versions].sort((a, b) => a - b);
    expect(new Set(versions).size).toBe(50);
    expect(sorted).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await counterRow(r)).toBe(50);
    expect(await versioning(r).getVersion()).toBe(50);
  });

  it("keeps regions independent, also when called concurrently", async () => {
    const eu = region("eu");
    const us = region("us");
    const calls = Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? versioning(eu) : versioning(us)).nextVersion().then((v) => ({ r: i % 2 === 0 ? eu : us, v })),
    );
    const results = await Promise.all(calls);
    for (const r of [eu, us]) {
      const mine = results
        .filter((x) => x.r === r)
        .map((x) => x.v)
        .sort((a, b) => a - b);
      expect(mine).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
    expect(await versioning(eu).getVersion()).toBe(10);
    expect(await versioning(us).getVersion()).toBe(10);
    // A region nobody touched starts at 0.
    expect(await versioning(region("untouched")).getVersion()).toBe(0);
  });

  it("commits topology idempotently: the same change twice keeps its version", async () => {
    const r = region("idem");
    const deploymentId = await deployment();
    const first = await versioning(r).commitTopology(topology(deploymentId, 2));
    expect(first).toEqual({ version: 1, changed: true });
    const again = await versioning(r).commitTopology(topology(deploymentId, 2));
    expect(again).toEqual({ version: 1, changed: false });
    expect(await counterRow(r)).toBe(1);

    // A real change gets the next version, and the row carries it.
    const scaled = await versioning(r).commitTopology(topology(deploymentId, 3));
    expect(scaled).toEqual({ version: 2, changed: true });
    const row = await db
      .selectFrom("deployment_topology")
      .selectAll()
      .where("deployment_id", "=", deploymentId)
      .where("region", "=", r)
      .executeTakeFirstOrThrow();
    expect({ replicas: row.desired_replicas, version: Number(row.version) }).toEqual({ replicas: 3, version: 2 });
    expect(await db.selectFrom("deployment_topology").select("id").where("deployment_id", "=", deploymentId).execute()).toHaveLength(1);
  });

  it("orders concurrent commits and allocations on one counter: versions distinct, rows = versions", async () => {
    const r = region("mixed");
    const ids = await Promise.all(Array.from({ length: 15 }, () => deployment()));
    const [commits, allocations] = await Promise.all([
      Promise.all(ids.map((id) => versioning(r).commitTopology(topology(id)))),
      Promise.all(Array.from({ length: 15 }, () => versioning(r).nextVersion())),
    ]);
    const all = [...commits.map((c) => c.version), ...allocations].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect((await committedVersions(r)).sort((a, b) => a - b)).toEqual(commits.map((c) => c.version).sort((a, b) => a - b));
  });
});

describe("VersioningService: bad changes fail terminally and never block the region", () => {
  const sentinel = (sentinelId: string, overrides: Partial<SentinelChange> = {}): SentinelChange => ({
    sentinelId,
    image: "ghcr.io/ctrl/sentinel:1",
    desiredReplicas: 1,
    desiredState: "running",
    create: {
      workspaceId: "ws_test",
      projectId: "proj_test",
      environmentId: newId("env"),
      k8sName: `sentinel-${newId("req").slice(4, 12).toLowerCase()}`,
      cpuMillicores: 250,
      memoryMib: 256,
    },
    ...overrides,
  });

  it("commits sentinels idempotently", async () => {
    const r = region("sentinel");
    const change = sentinel(newId("se"));
    expect(await versioning(r).commitSentinel(change)).toEqual({ version: 1, changed: true });
    expect(await versioning(r).commitSentinel(change)).toEqual({ version: 1, changed: false });
    expect(await versioning(r).commitSentinel({ sentinelId: change.sentinelId, image: "ghcr.io/ctrl/sentinel:2" })).toEqual({
      version: 2,
      changed: true,
    });
  });

  // Each of these used to be a plain error: Restate retried it forever inside the region's exclusive
  // handler, so every later nextVersion/commit of the region queued behind it.
  /** The terminal error an ingress call failed with: the HTTP code of `terminal()` and its message. */
  async function terminalFailure(call: PromiseLike<unknown>): Promise<{ code: number; message: string }> {
    try {
      await call;
    } catch (err) {
      const text = (err as Error).message;
      const body = JSON.parse(text.slice(text.indexOf("{"))) as { code: number; message: string };
      return { code: body.code, message: body.message };
    }
    throw new Error("expected the call to fail, it succeeded");
  }

  const cases: [string, (r: string) => PromiseLike<unknown>, RegExp][] = [
    [
      "a sentinel that does not exist, without a create block",
      (r) => versioning(r).commitSentinel({ sentinelId: newId("se"), image: "x:1" }),
      /^failed_precondition: .*does not exist/,
    ],
    [
      "a sentinel of another region",
      async (r) => {
        const change = sentinel(newId("se"));
        await versioning(`${r}-other`).commitSentinel(change);
        return versioning(r).commitSentinel({ sentinelId: change.sentinelId, image: "x:2" });
      },
      /^failed_precondition: .*is in region/,
    ],
    [
      "a second sentinel for the same environment",
      async (r) => {
        const first = sentinel(newId("se"));
        await versioning(r).commitSentinel(first);
        return versioning(r).commitSentinel(sentinel(newId("se"), { create: { ...first.create!, k8sName: "sentinel-other" } }));
      },
      /^already_exists: /,
    ],
    // Ownership: a topology change names the deployment's own workspace, and the deployment exists.
    [
      "a deployment that does not exist",
      (r) => versioning(r).commitTopology(topology(newId("d"))),
      /^not_found: deployment d_\w+ not found/,
    ],
    [
      "a deployment of another workspace",
      async (r) => versioning(r).commitTopology({ ...topology(await deployment()), workspaceId: "ws_attacker" }),
      /^permission_denied: deployment d_\w+ does not belong to workspace ws_attacker/,
    ],
    [
      "a deployment id longer than its column",
      (r) => versioning(r).commitTopology(topology("d".repeat(65))),
      /^invalid_argument: deploymentId/,
    ],
    ["negative replicas", (r) => versioning(r).commitTopology(topology(newId("d"), -1)), /^invalid_argument: desiredReplicas/],
    [
      "an unknown desired status",
      (r) => versioning(r).commitTopology({ ...topology(newId("d")), desiredStatus: "paused" as "running" }),
      /^invalid_argument: desiredStatus/,
    ],
    [
      "a sentinel k8s name that is not a DNS label",
      (r) => versioning(r).commitSentinel(sentinel(newId("se"), { create: { ...sentinel("x").create!, k8sName: "Not_A_Label" } })),
      /^invalid_argument: create.k8sName/,
    ],
  ];
  it.each(cases)("rejects %s, and the region keeps serving", async (_name, call, message) => {
    const r = region("bad");
    await versioning(r).nextVersion();
    const failure = await terminalFailure(call(r));
    expect(failure.message).toMatch(message);
    const expectedCode = { invalid_argument: 400, permission_denied: 403, not_found: 404, already_exists: 409, failed_precondition: 412 }[
      failure.message.split(":")[0] as string
    ];
    expect(failure.code).toBe(expectedCode);
    // Nothing half-done: the failed change allocated no version (its transaction rolled back)…
    const settled = await versioning(r).getVersion();
    expect(await counterRow(r)).toBe(settled);
    // …and the region is not wedged: its next exclusive call completes.
    expect(await versioning(r).nextVersion()).toBe(settled + 1);
  });

  it("rejects a region key longer than the region column", async () => {
    expect(await terminalFailure(versioning("r".repeat(65)).nextVersion())).toEqual({
      code: 400,
      message: expect.stringMatching(/^invalid_argument: region/),
    });
  });
});

describe("VersioningService after Restate loses its state", () => {
  /** After a wipe the server knows no deployment: register again, then wait until the ingress routes to it. */
  async function wipeRestateAndReregister() {
    await restate.restart({ wipe: true });
    await registerDeployment(restate.adminUrl, endpointUrl);
    await exposeServicesForTest(restate.adminUrl, ["VersioningService"]);
    await waitFor(
      "VersioningService to be routable after re-registration",
      async () => {
        await versioning("__probe__").getVersion();
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  it("continues above every committed version after the data dir is wiped", async () => {
    const r = region("wiped");
    for (let i = 0; i < 3; i++) await versioning(r).commitTopology(topology(await deployment()));
    const allocated = await Promise.all([versioning(r).nextVersion(), versioning(r).nextVersion()]);
    const highest = Math.max(...(await committedVersions(r)), ...allocated);
    expect(highest).toBe(5);

    await wipeRestateAndReregister();

    const next = await versioning(r).nextVersion();
    expect(next).toBeGreaterThan(highest);
    expect(next).toBe(highest + 1);
    const committed = await versioning(r).commitTopology(topology(await deployment()));
    expect(committed).toEqual({ version: next + 1, changed: true });
    // The commit of an existing row is still recognised as unchanged: its version survives in MySQL.
    const [existing] = await db
      .selectFrom("deployment_topology")
      .select(["deployment_id", "version"])
      .where("region", "=", r)
      .orderBy("version")
      .execute();
    expect(await versioning(r).commitTopology(topology(existing!.deployment_id))).toEqual({
      version: Number(existing!.version),
      changed: false,
    });
  });

  it("recovers a deleted counter row from Restate's cached floor while Restate still has it", async () => {
    const r = region("norow");
    await versioning(r).commitTopology(topology(await deployment()));
    const allocated = await versioning(r).nextVersion(); // 2, cached in Restate state
    await db.deleteFrom("region_versions").where("region", "=", r).execute();
    expect(await counterRow(r)).toBeUndefined();
    expect(await versioning(r).nextVersion()).toBe(allocated + 1);
  });

  it("recovers from MAX(version) when both Restate state and the counter row are gone", async () => {
    const r = region("lost");
    const commits = [];
    for (let i = 0; i < 4; i++) commits.push(await versioning(r).commitTopology(topology(await deployment(), i + 1)));
    const highestCommitted = Math.max(...(await committedVersions(r)));
    expect(highestCommitted).toBe(4);

    await db.deleteFrom("region_versions").where("region", "=", r).execute();
    await wipeRestateAndReregister();

    const next = await versioning(r).nextVersion();
    expect(next).toBeGreaterThan(highestCommitted);
    expect(next).toBe(highestCommitted + 1);
    expect(await counterRow(r)).toBe(next);
    expect(await versioning(r).getVersion()).toBe(next);
  });
});
