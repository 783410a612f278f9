// Long because the custom-domain cases share one stack with a DNS resolver stand-in.
/**
 * Custom domains and AcmeService.VerifyCertificate through real HTTP/Connect, real MariaDB and a real
 * restate-server (no worker registered: nothing verifies, so a claim stays pending, which is what the
 * API alone guarantees; verification is simulated by writing the row as the worker would).
 * Guarantees: a new claim is pending_verification with a TXT record and no route; a name verified by
 * another workspace (or overlapping one through a wildcard) is refused with 409 naming the rule,
 * while unverified claims do not block anyone; only a verified claim's challenge is ever served.
 * Verification and issuance are proven against Pebble's DNS in packages/stack/test/frontline-certificates.int.test.ts.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createRootKey, newId } from "@ctrl/db";
import { AcmeService, ChallengeType, DomainService } from "@ctrl/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackTransport, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
let acme: ReturnType<typeof createClient<typeof AcmeService>>;
let domains: ReturnType<typeof createClient<typeof DomainService>>;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  stack.deps.apexDomain = "ctrl.example.net";
  const transport = stackTransport(stack);
  acme = createClient(AcmeService, transport);
  domains = createClient(DomainService, transport);
});
afterAll(async () => stack?.close());

async function post(path: string, body: unknown, key: string | null = stack.seed.rootKey) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { data?: Record<string, unknown>; error?: { detail: string; errors?: { location: string }[] } },
  };
}

const add = (domain: string, extra: Record<string, unknown> = {}, key?: string | null) =>
  post("/v2/deploy.addCustomDomain", { projectId: stack.seed.projectId, environmentSlug: "production", domain, ...extra }, key);

/** Marks the claim of `domain` by `workspaceId` verified, as DomainVerificationService does. */
async function markVerified(domain: string, workspaceId = stack.seed.workspaceId) {
  await stack.database.db
    .updateTable("custom_domains")
    .set({ verification_status: "verified", verified_domain: domain, verified_at: Date.now() })
    .where("domain", "=", domain)
    .where("workspace_id", "=", workspaceId)
    .execute();
}

/** A second workspace with a project, a production environment and a root key. */
async function otherWorkspace(slug: string) {
  const db = stack.database.db;
  const now = Date.now();
  const ws = newId("ws");
  const proj = newId("proj");
  await db.insertInto("workspaces").values({ id: ws, name: slug, slug, created_at: now, updated_at: now }).execute();
  await db
    .insertInto("projects")
    .values({ id: proj, workspace_id: ws, name: "site", slug: "site", live_deployment_id: null, created_at: now, updated_at: now })
    .execute();
  await db
    .insertInto("environments")
    .values({ id: newId("env"), workspace_id: ws, project_id: proj, slug: "production", regions: null, created_at: now, updated_at: now })
    .execute();
  const { key } = await createRootKey(db, { workspaceId: ws, name: slug, permissions: ["project.*.*"], now });
  return {
    workspaceId: ws,
    add: (domain: string) => post("/v2/deploy.addCustomDomain", { projectId: proj, environmentSlug: "production", domain }, key),
    get: (domain: string) => post("/v2/deploy.getCustomDomain", { domain }, key),
  };
}

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe("POST /v2/deploy.addCustomDomain", () => {
  it("claims a domain pending verification: shows the TXT record to create, routes nothing, starts no issuance", async () => {
    const db = stack.database.db;
    const now = Date.now();
    // An environment route as a finished deploy leaves it.
    const deploymentId = newId("d");
    await db
      .insertInto("frontline_routes")
      .values({
        id: newId("route"),
        workspace_id: stack.seed.workspaceId,
        project_id: stack.seed.projectId,
        environment_id: stack.seed.environments.production,
        deployment_id: deploymentId,
        fully_qualified_domain_name: "hello-production-local.ctrl.example.net",
        sticky: "environment",
        created_at: now,
        updated_at: now,
      })
      .execute();

    const res = await add("Shop.Example.com.");
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      domain: "shop.example.com",
      challengeType: "http-01",
      verificationStatus: "pending_verification",
      state: "pending_verification",
      challengeStatus: "waiting",
      projectId: stack.seed.projectId,
      environmentId: stack.seed.environments.production,
    });
    const record = res.body.data!.verificationRecord as { name: string; type: string; value: string };
    expect(record).toMatchObject({ name: "_ctrl-challenge.shop.example.com", type: "TXT" });
    expect(record.value).toMatch(/^ctrl-domain-verification=[A-Za-z0-9_-]{32}$/);
    // Not routed even though the environment has a deployment: frontline answers 404 for it.
    expect(
      await db.selectFrom("frontline_routes").select("id").where("fully_qualified_domain_name", "=", "shop.example.com").executeTakeFirst(),
    ).toBeUndefined();
    expect(
      await db
        .selectFrom("frontline_routes")
        .select("deployment_id")
        .where("fully_qualified_domain_name", "=", "hello-production-local.ctrl.example.net")
        .executeTakeFirstOrThrow(),
    ).toEqual({ deployment_id: deploymentId });
    const challenge = await db
      .selectFrom("acme_challenges")
      .selectAll()
      .where("domain_id", "=", res.body.data!.id as string)
      .executeTakeFirstOrThrow();
    expect(challenge).toMatchObject({ status: "waiting", type: "http-01", token: null, authorization: null });
    // The same record through getCustomDomain.
    expect((await post("/v2/deploy.getCustomDomain", { domain: "shop.example.com" })).body.data).toMatchObject({
      verificationRecord: record,
      verificationStatus: "pending_verification",
    });
  });

  it("without a deployment yet, attaches the domain without a route", async () => {
    const res = await add("preview.example.com", { environmentSlug: "preview" });
    expect(res.status).toBe(201);
    expect(
      await stack.database.db
        .selectFrom("frontline_routes")
        .select("id")
        .where("fully_qualified_domain_name", "=", "preview.example.com")
        .executeTakeFirst(),
    ).toBeUndefined();
  });

  it("defaults wildcards to DNS-01 and refuses them with HTTP-01", async () => {
    const ok = await add("*.wild.example.com");
    expect(ok.status).toBe(201);
    // A wildcard is proven at the zone it covers.
    expect(ok.body.data).toMatchObject({
      domain: "*.wild.example.com",
      challengeType: "dns-01",
      verificationStatus: "pending_verification",
      verificationRecord: { name: "_ctrl-challenge.wild.example.com", type: "TXT" },
    });
    const bad = await add("*.other.example.com", { challengeType: "http-01" });
    expect(bad.status).toBe(400);
    expect(bad.body.error!.errors![0]!.location).toBe("body.challengeType");
  });

  it.each([
    ["", "body.domain"],
    ["not a domain", "body.domain"],
    ["localhost", "body.domain"],
    ["10.0.0.1", "body.domain"],
    ["app.ctrl.example.net", "body.domain"],
    ["*.ctrl.example.net", "body.domain"],
    ["x".repeat(300), "body.domain"],
  ])("rejects the domain %j with 400 at %s", async (domain, location) => {
    const res = await add(domain);
    expect(res.status).toBe(400);
    expect(res.body.error!.errors![0]!.location).toBe(location);
  });

  it("rejects malformed bodies and a bad challenge type", async () => {
    expect((await post("/v2/deploy.addCustomDomain", "")).status).toBe(400);
    expect((await post("/v2/deploy.addCustomDomain", "{nope")).status).toBe(400);
    expect((await post("/v2/deploy.addCustomDomain", { projectId: stack.seed.projectId })).status).toBe(400);
    expect((await add("a.example.com", { challengeType: "tls-alpn-01" })).status).toBe(400);
  });

  it("answers 404 for an unknown project or environment, and another workspace's project", async () => {
    const x1 = await add("x1.example.com", { projectId: "proj_nope" });
    expect(x1.status, JSON.stringify(x1.body)).toBe(404);
    expect((await add("x2.example.com", { environmentSlug: "staging" })).status).toBe(404);
    const now = Date.now();
    const otherWs = newId("ws");
    await stack.database.db
      .insertInto("workspaces")
      .values({ id: otherWs, name: "other", slug: "other", created_at: now, updated_at: now })
      .execute();
    const { key } = await createRootKey(stack.database.db, { workspaceId: otherWs, name: "other", permissions: ["project.*.*"], now });
    const res = await add("x3.example.com", {}, key);
    expect(res.status).toBe(404);
    expect(res.body.error!.detail).toBe(`project ${stack.seed.projectId} not found`);
  });

  it("answers 400/401/403 for missing, unknown and under-privileged keys", async () => {
    expect((await add("y1.example.com", {}, null)).status).toBe(400);
    expect((await add("y2.example.com", {}, "ctrl_unknown")).status).toBe(401);
    const { key } = await createRootKey(stack.database.db, {
      workspaceId: stack.seed.workspaceId,
      name: "ro",
      permissions: [`project.${stack.seed.projectId}.read_custom_domain`],
      now: Date.now(),
    });
    expect((await add("y3.example.com", {}, key)).status).toBe(403);
    expect((await post("/v2/deploy.getCustomDomain", { domain: "shop.example.com" }, key)).status).toBe(200);
  });

  it("lets several workspaces claim an unverified name, and refuses (409, naming the rule) a name another workspace verified", async () => {
    const b = await otherWorkspace("ws-b");
    const c = await otherWorkspace("ws-c");
    // shop.example.com is only claimed (pending) by the seed workspace: it blocks nobody.
    const claimB = await b.add("shop.example.com");
    expect(claimB.status, JSON.stringify(claimB.body)).toBe(201);
    const claimA = await post("/v2/deploy.getCustomDomain", { domain: "shop.example.com" });
    // Each workspace sees its own claim and its own value.
    expect((claimB.body.data!.verificationRecord as { value: string }).value).not.toBe(
      (claimA.body.data!.verificationRecord as { value: string }).value,
    );
    expect(claimB.body.data!.id).not.toBe(claimA.body.data!.id);

    // Once B's claim is verified, a third workspace cannot claim it.
    await markVerified("shop.example.com", b.workspaceId);
    const refused = await c.add("shop.example.com");
    expect(refused.status).toBe(409);
    expect(refused.body.error!.detail).toBe(
      "domain shop.example.com is verified by another workspace: a verified domain belongs to one workspace",
    );
    // The seed workspace still sees its own (pending) claim, not B's.
    expect((await post("/v2/deploy.getCustomDomain", { domain: "shop.example.com" })).body.data).toMatchObject({
      id: claimA.body.data!.id,
      verificationStatus: "pending_verification",
    });
  });

  it("applies the wildcard rule both ways: a wildcard and the names directly under it belong to one workspace", async () => {
    const b = await otherWorkspace("ws-wild");
    // B owns an exact name: nobody else may take the wildcard covering it.
    expect((await b.add("api.zone.example.com")).status).toBe(201);
    await markVerified("api.zone.example.com", b.workspaceId);
    const wild = await add("*.zone.example.com");
    expect(wild.status).toBe(409);
    expect(wild.body.error!.detail).toBe(
      "domain *.zone.example.com overlaps api.zone.example.com, verified by another workspace: a wildcard and the names directly under it belong to one workspace",
    );
    // B owns a wildcard: nobody else may take a name it serves; deeper names and the apex are not covered.
    expect((await b.add("*.wz.example.com")).status).toBe(201);
    await markVerified("*.wz.example.com", b.workspaceId);
    expect((await add("shop.wz.example.com")).status).toBe(409);
    expect((await add("a.b.wz.example.com")).status).toBe(201);
    expect((await add("wz.example.com")).status).toBe(201);
    // The owner itself may add both.
    expect((await b.add("shop.wz.example.com")).status).toBe(201);
  });

  it("answers 409 for a taken domain, including a platform route, and lets exactly one of concurrent adds win", async () => {
    expect((await add("shop.example.com")).status).toBe(409);
    const now = Date.now();
    await stack.database.db
      .insertInto("frontline_routes")
      .values({
        id: newId("route"),
        workspace_id: stack.seed.workspaceId,
        project_id: "proj_other",
        environment_id: "env_other",
        deployment_id: "d_other",
        fully_qualified_domain_name: "routed.example.com",
        sticky: "none",
        created_at: now,
        updated_at: now,
      })
      .execute();
    expect((await add("routed.example.com")).status).toBe(409);

    const results = await Promise.all(Array.from({ length: 6 }, () => add("race.example.com")));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    const rows = await stack.database.db.selectFrom("custom_domains").select("id").where("domain", "=", "race.example.com").execute();
    expect(rows).toHaveLength(1);
  });
});

describe("DomainService over Connect", () => {
  it("adds and reads a claim with its TXT record, and refuses to retry a verified domain whose challenge has not failed", async () => {
    const added = await domains.addCustomDomain({
      projectId: stack.seed.projectId,
      environmentSlug: "production",
      domain: "rpc.example.com",
      challengeType: ChallengeType.HTTP_01,
    });
    expect(added.domain).toMatchObject({
      domain: "rpc.example.com",
      challengeType: ChallengeType.HTTP_01,
      challengeStatus: "waiting",
      verificationStatus: "pending_verification",
      state: "pending_verification",
    });
    expect(added.domain!.verificationRecord).toMatchObject({ name: "_ctrl-challenge.rpc.example.com", type: "TXT" });
    expect(added.domain!.verificationRecord!.value).toMatch(/^ctrl-domain-verification=/);
    const read = (await domains.getCustomDomain({ domain: "RPC.example.com" })).domain!;
    expect(read.id).toBe(added.domain!.id);
    expect(read.verificationRecord!.value).toBe(added.domain!.verificationRecord!.value);
    // Pending: a retry re-arms verification.
    expect((await domains.retryCustomDomain({ domain: "rpc.example.com" })).domain).toMatchObject({
      verificationStatus: "pending_verification",
    });
    await markVerified("rpc.example.com");
    expect((await domains.getCustomDomain({ domain: "rpc.example.com" })).domain).toMatchObject({
      verificationStatus: "verified",
      state: "issuing",
    });
    expect((await domains.getCustomDomain({ domain: "rpc.example.com" })).domain!.verifiedAt).toBeGreaterThan(0n);
    expect(await codeOf(domains.retryCustomDomain({ domain: "rpc.example.com" }))).toBe(Code.FailedPrecondition);
    expect(await codeOf(domains.getCustomDomain({ domain: "missing.example.com" }))).toBe(Code.NotFound);
    expect(
      await codeOf(domains.addCustomDomain({ projectId: stack.seed.projectId, environmentSlug: "production", domain: "rpc.example.com" })),
    ).toBe(Code.AlreadyExists);
    expect(
      await codeOf(domains.addCustomDomain({ projectId: stack.seed.projectId, environmentSlug: "production", domain: "bad..example.com" })),
    ).toBe(Code.InvalidArgument);
    expect(await codeOf(domains.addCustomDomain({ projectId: "", environmentSlug: "production", domain: "a.example.com" }))).toBe(
      Code.InvalidArgument,
    );
  });

  it("retries a verified domain whose certificate failed: its challenge goes back to waiting", async () => {
    const db = stack.database.db;
    const view = await domains.addCustomDomain({
      projectId: stack.seed.projectId,
      environmentSlug: "production",
      domain: "retry.example.com",
    });
    await markVerified("retry.example.com");
    await db
      .updateTable("acme_challenges")
      .set({ status: "failed", error_message: "validation 0: connection refused" })
      .where("domain_id", "=", view.domain!.id)
      .execute();
    expect((await domains.getCustomDomain({ domain: "retry.example.com" })).domain).toMatchObject({
      challengeStatus: "failed",
      state: "certificate_failed",
      errorMessage: "validation 0: connection refused",
    });
    const retried = await domains.retryCustomDomain({ domain: "retry.example.com" });
    expect(retried.domain).toMatchObject({ challengeStatus: "waiting", verificationStatus: "verified", state: "issuing" });
  });

  it("retries a failed verification: back to pending, unless another workspace verified the name meanwhile", async () => {
    const db = stack.database.db;
    await domains.addCustomDomain({ projectId: stack.seed.projectId, environmentSlug: "production", domain: "gaveup.example.com" });
    await db
      .updateTable("custom_domains")
      .set({ verification_status: "failed", verification_error: "no TXT record at _ctrl-challenge.gaveup.example.com yet" })
      .where("domain", "=", "gaveup.example.com")
      .execute();
    expect((await domains.getCustomDomain({ domain: "gaveup.example.com" })).domain).toMatchObject({
      verificationStatus: "failed",
      state: "verification_failed",
      verificationError: "no TXT record at _ctrl-challenge.gaveup.example.com yet",
    });
    const retried = (await domains.retryCustomDomain({ domain: "gaveup.example.com" })).domain!;
    expect(retried.verificationStatus).toBe("pending_verification");
    expect(retried.verificationError).toBeUndefined();

    const b = await otherWorkspace("ws-retry");
    expect((await b.add("gaveup.example.com")).status).toBe(201);
    await markVerified("gaveup.example.com", b.workspaceId);
    // (As the seed workspace's root key: the internal token reads the verified claim of a name.)
    const refused = await post("/v2/deploy.retryCustomDomain", { domain: "gaveup.example.com" });
    expect(refused.status).toBe(409);
    expect(refused.body.error!.detail).toBe(
      "domain gaveup.example.com is verified by another workspace: a verified domain belongs to one workspace",
    );
  });

  it("requires the bearer token", async () => {
    const anonymous = createClient(DomainService, createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" }));
    expect(await codeOf(anonymous.getCustomDomain({ domain: "shop.example.com" }))).toBe(Code.Unauthenticated);
  });
});

describe("AcmeService.VerifyCertificate", () => {
  it("returns the key authorization for the verified domain's current token, never an unverified claim's", async () => {
    const db = stack.database.db;
    const view = await domains.addCustomDomain({
      projectId: stack.seed.projectId,
      environmentSlug: "production",
      domain: "verify.example.com",
    });
    // Not issued yet: the challenge exists but has no token.
    expect(await codeOf(acme.verifyCertificate({ domain: "verify.example.com", token: "tok123" }))).toBe(Code.NotFound);
    await db
      .updateTable("acme_challenges")
      .set({ token: "tok123", authorization: "tok123.thumbprint", status: "pending" })
      .where("domain_id", "=", view.domain!.id)
      .execute();
    // A token on an unverified claim is never served (nothing unproven reaches ACME through us).
    expect(await codeOf(acme.verifyCertificate({ domain: "verify.example.com", token: "tok123" }))).toBe(Code.NotFound);
    await markVerified("verify.example.com");
    expect((await acme.verifyCertificate({ domain: "Verify.Example.com", token: "tok123" })).authorization).toBe("tok123.thumbprint");
    // Unknown token, unknown domain, another domain's token.
    expect(await codeOf(acme.verifyCertificate({ domain: "verify.example.com", token: "tok124" }))).toBe(Code.NotFound);
    expect(await codeOf(acme.verifyCertificate({ domain: "nobody.example.com", token: "tok123" }))).toBe(Code.NotFound);
    expect(await codeOf(acme.verifyCertificate({ domain: "shop.example.com", token: "tok123" }))).toBe(Code.NotFound);
    expect(await codeOf(acme.verifyCertificate({ domain: "", token: "tok123" }))).toBe(Code.InvalidArgument);
  });

  it("never serves a DNS-01 challenge's value over HTTP", async () => {
    const db = stack.database.db;
    const view = await domains.addCustomDomain({
      projectId: stack.seed.projectId,
      environmentSlug: "production",
      domain: "*.dns.example.com",
    });
    await markVerified("*.dns.example.com");
    await db
      .updateTable("acme_challenges")
      .set({ token: "dnstok", authorization: "digest" })
      .where("domain_id", "=", view.domain!.id)
      .execute();
    expect(await codeOf(acme.verifyCertificate({ domain: "*.dns.example.com", token: "dnstok" }))).toBe(Code.NotFound);
  });

  it("requires the bearer token", async () => {
    const anonymous = createClient(AcmeService, createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" }));
    expect(await codeOf(anonymous.verifyCertificate({ domain: "verify.example.com", token: "tok123" }))).toBe(Code.Unauthenticated);
  });
});
