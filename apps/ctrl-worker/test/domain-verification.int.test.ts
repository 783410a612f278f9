/**
 * DomainVerificationService against a real restate-server, MariaDB and pebble-challtestsrv's DNS
 * (the resolver the worker asks, as DNS_RESOLVER points it). Guarantees: a claim whose TXT record
 * never appears is rechecked and fails once the bounded window closes, with the last reason; a
 * re-arm after publishing the value verifies it and routes it like the environment's own domain;
 * of several workspaces racing to verify one name (or a wildcard and a name it covers) exactly one
 * wins, whatever the interleaving.
 */
import "../src/polyfill.js";
import { markDomainVerified, newId, newVerificationValue, seedLocal, type Db, type SeedResult } from "@ctrl/db";
import {
  createTestDatabase,
  exposeServicesForTest,
  registerDeployment,
  startPebble,
  startRestate,
  waitFor,
  type Pebble,
  type RestateServer,
  type TestDatabase,
} from "@ctrl/testing";
import * as clients from "@restatedev/restate-sdk-clients";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { domainVerificationServiceName, type DomainVerificationServiceApi } from "../src/api.js";
import { createEndpoint, type WorkerEndpoint } from "../src/endpoint.js";

let database: TestDatabase;
let db: Db;
let restate: RestateServer;
let pebble: Pebble;
let endpoint: WorkerEndpoint;
let rs: clients.Ingress;
let seed: SeedResult;
const windowMs = 2_000;

beforeAll(async () => {
  [database, restate, pebble] = await Promise.all([createTestDatabase(), startRestate(), startPebble()]);
  db = database.db;
  seed = await seedLocal(db);
  endpoint = createEndpoint(
    {
      db,
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
      domainVerification: {
        resolvers: [`127.0.0.1:${pebble.dnsPort}`],
        lookupTimeoutMs: 1_000,
        windowMs,
        firstRecheckMs: 100,
        maxRecheckMs: 300,
      },
    },
    { identityKeys: restate.identityKeys },
  );
  const port = await endpoint.listen(0, "127.0.0.1");
  await registerDeployment(restate.adminUrl, `http://127.0.0.1:${port}`);
  // The test drives the ingress-private service directly.
  await exposeServicesForTest(restate.adminUrl, [domainVerificationServiceName]);
  rs = clients.connect({ url: restate.ingressUrl });
}, 60_000);
afterAll(async () => {
  await endpoint?.close(500);
  await Promise.allSettled([restate?.dispose(), pebble?.dispose()]);
  await database?.drop();
});

/** A pending claim of `domain` by `workspaceId` in its production environment (as ctrl-api inserts it). */
async function claim(
  domain: string,
  workspaceId = seed.workspaceId,
  projectId = seed.projectId,
  environmentId = seed.environments.production,
) {
  const id = newId("dom");
  const now = Date.now();
  const value = newVerificationValue();
  await db
    .insertInto("custom_domains")
    .values({
      id,
      workspace_id: workspaceId,
      project_id: projectId,
      environment_id: environmentId,
      domain,
      challenge_type: domain.startsWith("*.") ? "dns-01" : "http-01",
      verification_status: "pending_verification",
      verification_value: value,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await db
    .insertInto("acme_challenges")
    .values({
      id: newId("chal"),
      workspace_id: workspaceId,
      domain_id: id,
      token: null,
      authorization: null,
      type: domain.startsWith("*.") ? "dns-01" : "http-01",
      status: "waiting",
      error_message: null,
      expires_at: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return { id, value };
}

async function workspace(slug: string): Promise<string> {
  const id = newId("ws");
  await db.insertInto("workspaces").values({ id, name: slug, slug, created_at: Date.now(), updated_at: Date.now() }).execute();
  return id;
}

async function setTxt(host: string, value: string) {
  const res = await fetch(`${pebble.challtestsrvUrl}/set-txt`, { method: "POST", body: JSON.stringify({ host: `${host}.`, value }) });
  expect(res.ok).toBe(true);
}

const verification = (claimId: string) => rs.objectClient<DomainVerificationServiceApi>({ name: domainVerificationServiceName }, claimId);
const row = (id: string) => db.selectFrom("custom_domains").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

describe("DomainVerificationService", () => {
  it("rechecks a missing record until the window closes and fails with the reason; a re-arm after publishing verifies and routes it", async () => {
    // The environment's own domain points at a deployment: the custom domain follows it once verified.
    const now = Date.now();
    // A real deployment row: RoutingService refuses routes to a deployment it cannot find.
    const deploymentId = newId("d");
    await db
      .insertInto("deployments")
      .values({
        id: deploymentId,
        workspace_id: seed.workspaceId,
        project_id: seed.projectId,
        environment_id: seed.environments.production,
        source_type: "image",
        image: "hello",
        status: "ready",
        cpu_millicores: 100,
        memory_mib: 128,
        replicas: 1,
        port: 8080,
        health_check_path: "/health",
        git_commit_sha: "abcdef1234567",
        git_branch: "main",
        created_at: now,
        updated_at: now,
      })
      .execute();
    await db
      .insertInto("frontline_routes")
      .values({
        id: newId("route"),
        workspace_id: seed.workspaceId,
        project_id: seed.projectId,
        environment_id: seed.environments.production,
        deployment_id: deploymentId,
        fully_qualified_domain_name: "hello-production-local.ctrl.localhost",
        sticky: "environment",
        created_at: now,
        updated_at: now,
      })
      .execute();
    const c = await claim("late.example.test");

    const first = await verification(c.id).arm({});
    expect(first).toMatchObject({
      status: "pending_verification",
      reason: "no TXT record at _ctrl-challenge.late.example.test yet: create TXT _ctrl-challenge.late.example.test with the value shown",
    });
    expect(first.nextCheckAt).toBeGreaterThan(now);
    const failed = await waitFor(
      "the window to close",
      async () => {
        const r = await row(c.id);
        return r.verification_status === "failed" ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    expect(failed.verification_error).toBe(
      `no TXT record at _ctrl-challenge.late.example.test yet: create TXT _ctrl-challenge.late.example.test with the value shown (gave up after ${windowMs / 1000} s; retry the domain once the record exists)`,
    );
    expect(failed.verified_domain).toBeNull();
    expect(
      await db
        .selectFrom("frontline_routes")
        .select("id")
        .where("fully_qualified_domain_name", "=", "late.example.test")
        .executeTakeFirst(),
    ).toBeUndefined();

    // The owner publishes the value and retries (ctrl-api resets the status and arms again).
    await setTxt("_ctrl-challenge.late.example.test", c.value);
    await db.updateTable("custom_domains").set({ verification_status: "pending_verification" }).where("id", "=", c.id).execute();
    expect(await verification(c.id).arm({})).toMatchObject({ status: "verified", domain: "late.example.test" });
    expect(await row(c.id)).toMatchObject({
      verification_status: "verified",
      verified_domain: "late.example.test",
      verification_error: null,
    });
    const route = await db
      .selectFrom("frontline_routes")
      .selectAll()
      .where("fully_qualified_domain_name", "=", "late.example.test")
      .executeTakeFirstOrThrow();
    expect(route).toMatchObject({
      deployment_id: deploymentId,
      sticky: "environment",
      project_id: seed.projectId,
      environment_id: seed.environments.production,
    });
    // This worker has no certificate configuration: the domain says so instead of waiting forever.
    const challenge = await waitFor("the challenge to say certificates are not configured", async () => {
      const ch = await db.selectFrom("acme_challenges").selectAll().where("domain_id", "=", c.id).executeTakeFirstOrThrow();
      return ch.status === "failed" ? ch : undefined;
    });
    expect(challenge.error_message).toBe("certificates are not configured on this worker (set VAULT_MASTER_KEYS and ACME_DIRECTORY_URL)");
  }, 30_000);

  it("a stale scheduled check of an earlier arming does nothing", async () => {
    const c = await claim("stale.example.test");
    await verification(c.id).arm({});
    expect(await verification(c.id).check({ generation: 0 })).toEqual({ claimId: c.id, status: "superseded" });
  });
});

describe("markDomainVerified", () => {
  it("lets exactly one of several workspaces racing for one name win; the others are refused with the rule", async () => {
    const claims = await Promise.all(Array.from({ length: 5 }, async (_, i) => claim("race.example.test", await workspace(`race-${i}`))));
    const results = await Promise.all(claims.map((c) => markDomainVerified(db, c.id, Date.now())));
    expect(results.filter((r) => r.outcome === "verified")).toHaveLength(1);
    const rows = await db
      .selectFrom("custom_domains")
      .select(["verification_status", "verification_error"])
      .where("domain", "=", "race.example.test")
      .execute();
    expect(rows.filter((r) => r.verification_status === "verified")).toHaveLength(1);
    for (const r of rows.filter((x) => x.verification_status !== "verified")) {
      expect(r).toEqual({
        verification_status: "failed",
        verification_error: "race.example.test was verified by another workspace first; a verified domain belongs to one workspace",
      });
    }
  });

  it("lets exactly one of a wildcard and a name directly under it, claimed by two workspaces at once, win", async () => {
    for (let round = 0; round < 5; round++) {
      const wild = await claim(`*.z${round}.example.test`, await workspace(`wild-${round}`));
      const exact = await claim(`api.z${round}.example.test`, await workspace(`exact-${round}`));
      const [a, b] = await Promise.all([markDomainVerified(db, wild.id, Date.now()), markDomainVerified(db, exact.id, Date.now())]);
      expect([a.outcome, b.outcome].sort()).toEqual(["conflict", "verified"]);
      const loser = a.outcome === "conflict" ? a : b;
      expect(loser.outcome === "conflict" && loser.reason).toMatch(
        /overlaps .* verified by another workspace first \(a wildcard and the names it covers belong to one workspace\)$/,
      );
    }
    // Same workspace: no conflict.
    const ws = await workspace("both");
    const w = await claim("*.mine.example.test", ws);
    const e = await claim("api.mine.example.test", ws);
    expect((await markDomainVerified(db, w.id, Date.now())).outcome).toBe("verified");
    expect((await markDomainVerified(db, e.id, Date.now())).outcome).toBe("verified");
  });
});
