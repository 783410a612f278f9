// Long because its cases share one Pebble + restate-server + worker + ctrl-api + frontline stack; a file per case would start it again each time.
/**
 * Certificates against a real ACME server, end to end through frontline: Debian's Pebble (started by
 * the harness) validates HTTP-01 challenges by fetching them from frontline's HTTP listener, which
 * asks ctrl-api's AcmeService.VerifyCertificate; the worker's CertificateService (real
 * restate-server, MariaDB) stores the certificate; frontline's HTTPS listener serves it from the
 * certificate store and proxies to the environment's running app. Guarantees: HTTP-01 and DNS-01
 * issuance with the private key stored only encrypted; new and renewed certificates served without a
 * restart; HTTP redirects to HTTPS once a certificate exists but the challenge path never does; an
 * unreachable challenge fails with the reason and a retry after fixing it succeeds; the renewal job is
 * idempotent per day.
 * Ownership (issue 10): the worker's DomainVerificationService looks up `_ctrl-challenge.<domain>`
 * on challtestsrv's DNS. Until the claim's value is there a domain (wildcards too) is not routed
 * (frontline answers 404) and nothing reaches the ACME server (no account, no order, no
 * certificate); a wrong value keeps it pending with the reason; the first workspace to verify a
 * name owns it, and another workspace's claim is refused.
 */
import { createCertStore, type CertStore } from "@ctrl/certstore";
import type { CertificateServiceApi, RenewExpiringResult } from "@ctrl/ctrl-worker/api";
import { createRootKey, newId } from "@ctrl/db";
import { createAcmeVerifier } from "@ctrl/frontline/acme";
import { createFrontline } from "@ctrl/frontline/frontline";
import { startRouteTable, type RouteTable } from "@ctrl/frontline/route-table";
import { testSettings } from "@ctrl/frontline/testing";
import { createUpstreamPool } from "@ctrl/proxy";
import { exposeServicesForTest, waitFor } from "@ctrl/testing";
import { rewrapSecrets } from "@ctrl/ctrl-worker/certificates";
import { Vault, vaultContext } from "@ctrl/vault";
import { createPublicKey, X509Certificate } from "node:crypto";
import { Resolver } from "node:dns/promises";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { request, type Server } from "node:https";
import type { TLSSocket } from "node:tls";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCertStack, type CertStack } from "@ctrl/ctrl-api/cert-testing";

let cs: CertStack;
let store: CertStore;
let routes: RouteTable;
let dispatcher: ReturnType<typeof createUpstreamPool>;
let frontlineHttp: HttpServer;
let https: Server;
let httpsPort: number;
let app: HttpServer;
let root: string;

beforeAll(async () => {
  cs = await startCertStack({ responder: false });
  // CertificateService is ingress-private; the renewal test drives its job directly.
  await exposeServicesForTest(cs.stack.restate.adminUrl, ["CertificateService"]);
  root = await cs.pebble.rootPem();
  const db = cs.stack.database.db;

  // The environment's deployed app: a running instance in region `local` behind the environment's
  // sticky route, as a finished deploy and the agent leave them.
  app = createHttpServer((req, res) => res.end(`hello from the app via ${req.headers.host} (${req.headers["x-forwarded-proto"]})`));
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
  const now = Date.now();
  const deploymentId = newId("d");
  const base = { workspace_id: cs.stack.seed.workspaceId, project_id: cs.stack.seed.projectId, created_at: now, updated_at: now };
  // A real deployment row: RoutingService refuses routes to a deployment it cannot find.
  await db
    .insertInto("deployments")
    .values({
      ...base,
      id: deploymentId,
      environment_id: cs.stack.seed.environments.production,
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
    })
    .execute();
  await db
    .insertInto("frontline_routes")
    .values({
      ...base,
      id: newId("route"),
      environment_id: cs.stack.seed.environments.production,
      deployment_id: deploymentId,
      fully_qualified_domain_name: "hello-production-local.ctrl.example.net",
      sticky: "environment",
    })
    .execute();
  await db
    .insertInto("instances")
    .values({
      ...base,
      id: newId("ins"),
      deployment_id: deploymentId,
      region: "local",
      k8s_name: "hello-0",
      address: `127.0.0.1:${(app.address() as { port: number }).port}`,
      cpu_millicores: 100,
      memory_mib: 128,
      status: "running",
      exit_code: null,
      halt_intent: null,
      failure_reason: null,
    })
    .execute();

  // Frontline, wired as its main.ts does: HTTP on the port Pebble validates against, HTTPS from the store.
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  store = createCertStore({ db, vault: cs.vault, pollIntervalMs: 100, logger });
  await store.start();
  // The app listens on an ephemeral port: allow every unprivileged port here (upstream-ports.int.test.ts covers the range).
  routes = await startRouteTable({
    db,
    region: "local",
    logger,
    pollIntervalMs: 100,
    fullReloadMs: 30_000,
    upstreamPorts: { low: 1024, high: 65535 },
  });
  dispatcher = createUpstreamPool({ connectTimeoutMs: 1_000 });
  const httpsRedirect = { shouldRedirectToHttps: store.shouldRedirectToHttps, port: 0 };
  const frontline = createFrontline({
    routes,
    dispatcher,
    logger,
    settings: testSettings,
    acme: createAcmeVerifier({ baseUrl: cs.stack.apiUrl, token: cs.stack.frontlineToken, timeoutMs: 5_000 }),
    tls: store,
    httpsRedirect,
  });
  frontlineHttp = frontline.createHttpServer();
  await new Promise<void>((r) => frontlineHttp.listen(cs.challengePort, "127.0.0.1", r));
  https = frontline.createHttpsServer();
  await new Promise<void>((r) => https.listen(0, "127.0.0.1", r));
  httpsPort = (https.address() as { port: number }).port;
  httpsRedirect.port = httpsPort;
});

afterAll(async () => {
  store?.stop();
  frontlineHttp?.closeAllConnections();
  frontlineHttp?.close();
  https?.closeAllConnections();
  https?.close();
  app?.close();
  await routes?.stop();
  await dispatcher?.close();
  await cs?.close();
});

async function post(path: string, body: unknown) {
  const res = await fetch(`${cs.stack.apiUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${cs.stack.seed.rootKey}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown>; error?: unknown } };
}

const addDomain = (domain: string) =>
  post("/v2/deploy.addCustomDomain", { projectId: cs.stack.seed.projectId, environmentSlug: "production", domain });
const getDomain = async (domain: string) => (await post("/v2/deploy.getCustomDomain", { domain })).body.data!;

/** The claim row of `domain` (of the seed workspace unless given). */
const claimRow = (domain: string, workspaceId = cs.stack.seed.workspaceId) =>
  cs.stack.database.db
    .selectFrom("custom_domains")
    .selectAll()
    .where("domain", "=", domain)
    .where("workspace_id", "=", workspaceId)
    .executeTakeFirstOrThrow();

/**
 * Waits until the worker looked the claim's record up at least twice more (so "still not verified"
 * is an observation, not a race) and returns the claim then.
 */
async function afterTwoMoreChecks(domain: string, workspaceId?: string) {
  let seen = 0;
  let last = (await claimRow(domain, workspaceId)).verification_checked_at;
  return waitFor(
    `two more TXT lookups of ${domain}`,
    async () => {
      const row = await claimRow(domain, workspaceId);
      if (row.verification_checked_at !== last) {
        seen++;
        last = row.verification_checked_at;
      }
      return seen >= 2 ? row : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50 },
  );
}

/** A workspace besides the seed one, with a production environment and a root key. */
async function otherWorkspace(slug: string) {
  const db = cs.stack.database.db;
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
  const call = async (path: string, body: unknown) => {
    const res = await fetch(`${cs.stack.apiUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown>; error?: { detail: string } } };
  };
  return {
    workspaceId: ws,
    projectId: proj,
    key,
    add: (domain: string) => call("/v2/deploy.addCustomDomain", { projectId: proj, environmentSlug: "production", domain }),
    get: async (domain: string) => (await call("/v2/deploy.getCustomDomain", { domain })).body.data!,
  };
}

/** Nothing of `domain` reached the ACME server: no certificate, the challenge never got a token. */
async function expectNothingSentToAcme(domain: string, workspaceId = cs.stack.seed.workspaceId) {
  const claim = await claimRow(domain, workspaceId);
  const challenge = await cs.stack.database.db
    .selectFrom("acme_challenges")
    .selectAll()
    .where("domain_id", "=", claim.id)
    .executeTakeFirstOrThrow();
  expect(challenge).toMatchObject({ status: "waiting", token: null, authorization: null });
  expect(await certificateRow(domain)).toBeUndefined();
}

/** HTTPS GET for `host` through frontline's TLS listener, trusting only Pebble's root. */
function httpsGet(host: string, path = "/"): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: httpsPort, servername: host, headers: { host }, path, ca: root, agent: false },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, fingerprint }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Plain-HTTP GET for `host` through frontline's HTTP listener (no redirect following). */
async function httpGet(host: string, path: string): Promise<{ status: number; location: string | null }> {
  const { request: httpRequest } = await import("node:http");
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: cs.challengePort, headers: { host }, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, location: res.headers.location ?? null }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function certificateRow(hostname: string) {
  return cs.stack.database.db.selectFrom("certificates").selectAll().where("hostname", "=", hostname).executeTakeFirst();
}

describe("ownership before use", () => {
  it("neither routes nor sends an unverified domain to ACME; a wrong TXT value stays pending with the reason", async () => {
    const added = await addDomain("unproven.example.test");
    expect(added.body.data).toMatchObject({
      verificationStatus: "pending_verification",
      state: "pending_verification",
      verificationRecord: { name: "_ctrl-challenge.unproven.example.test", type: "TXT" },
    });
    const missing = await afterTwoMoreChecks("unproven.example.test");
    expect(missing.verification_status).toBe("pending_verification");
    expect(missing.verification_error).toBe(
      "no TXT record at _ctrl-challenge.unproven.example.test yet: create TXT _ctrl-challenge.unproven.example.test with the value shown",
    );
    await routes.nextRefresh(5_000);
    expect((await httpGet("unproven.example.test", "/")).status).toBe(404);
    await expectNothingSentToAcme("unproven.example.test");
    // No ACME account was even registered for the workspace: nothing talked to Pebble.
    expect(
      await cs.stack.database.db.selectFrom("acme_users").select("id").where("workspace_id", "=", cs.stack.seed.workspaceId).execute(),
    ).toEqual([]);

    // A value that is not this claim's: still pending, and the reason says what was seen.
    await cs.publishVerification("unproven.example.test", { value: "ctrl-domain-verification=not-the-right-one" });
    await waitFor(
      "the wrong value to be reported",
      async () => String((await getDomain("unproven.example.test")).verificationError).includes("not-the-right-one"),
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    const wrong = await getDomain("unproven.example.test");
    expect(wrong).toMatchObject({ verificationStatus: "pending_verification", state: "pending_verification" });
    expect(wrong.verificationError).toBe(
      'TXT _ctrl-challenge.unproven.example.test has 1 value(s) ("ctrl-domain-verification=not-the-right-one") but not the expected one',
    );
    await afterTwoMoreChecks("unproven.example.test");
    await routes.nextRefresh(5_000);
    expect((await httpGet("unproven.example.test", "/")).status).toBe(404);
    await expectNothingSentToAcme("unproven.example.test");
    await cs.clearVerification("unproven.example.test");
  });

  it("lets the first workspace to verify a name own it: the other's pending claim is refused, later claims get 409", async () => {
    const b = await otherWorkspace("rival");
    // Both workspaces claim the name; neither claim blocks the other.
    expect((await addDomain("contested.example.test")).status).toBe(201);
    expect((await b.add("contested.example.test")).status).toBe(201);
    // B proves control first.
    await cs.publishVerification("contested.example.test", { workspaceId: b.workspaceId });
    await waitFor("B's claim verified", async () => (await b.get("contested.example.test")).verificationStatus === "verified", {
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    // The seed workspace's claim is refused with the rule, and stays unrouted even with its value published.
    const lost = await waitFor(
      "A's claim refused",
      async () => {
        const d = await getDomain("contested.example.test");
        return d.verificationStatus === "failed" ? d : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    expect(lost).toMatchObject({
      state: "verification_failed",
      verificationError: "contested.example.test was verified by another workspace first; a verified domain belongs to one workspace",
    });
    // A third workspace cannot even claim it now.
    const c = await otherWorkspace("latecomer");
    const refused = await c.add("contested.example.test");
    expect(refused.status).toBe(409);
    expect(refused.body.error!.detail).toBe(
      "domain contested.example.test is verified by another workspace: a verified domain belongs to one workspace",
    );
    // Retrying the lost claim is refused too.
    expect((await post("/v2/deploy.retryCustomDomain", { domain: "contested.example.test" })).status).toBe(409);
    await cs.clearVerification("contested.example.test");
  });
});

describe("HTTP-01", () => {
  it("issues a certificate for a custom domain once its TXT record is seen, stores the key encrypted, and serves it over HTTPS", async () => {
    expect((await addDomain("shop.example.test")).status).toBe(201);
    await afterTwoMoreChecks("shop.example.test");
    await routes.nextRefresh(5_000);
    expect((await httpGet("shop.example.test", "/hi")).status).toBe(404);
    await expectNothingSentToAcme("shop.example.test");
    await cs.publishVerification("shop.example.test");
    const view = await waitFor(
      "shop.example.test verified",
      async () => {
        const d = await getDomain("shop.example.test");
        if (d.challengeStatus === "failed") throw new Error(`failed: ${String(d.errorMessage)}`);
        return d.challengeStatus === "verified" ? d : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(view).toMatchObject({ verificationStatus: "verified", state: "active", challengeType: "http-01" });
    expect(view.verifiedAt).toBeGreaterThan(0);
    // Routed like the environment's domain, by the verification.
    expect(
      await cs.stack.database.db
        .selectFrom("frontline_routes")
        .select(["sticky", "environment_id"])
        .where("fully_qualified_domain_name", "=", "shop.example.test")
        .executeTakeFirst(),
    ).toEqual({ sticky: "environment", environment_id: cs.stack.seed.environments.production });
    expect(view.certificateExpiresAt).toBeGreaterThan(Date.now());

    const row = (await certificateRow("shop.example.test"))!;
    // Stored encrypted: no PEM marker, a vault blob, and it decrypts only for this hostname.
    expect(row.encrypted_private_key).not.toContain("PRIVATE KEY");
    expect(row.encrypted_private_key.startsWith("v1.k1.")).toBe(true);
    const key = cs.vault.decryptString(row.encrypted_private_key, vaultContext.certificateKey("shop.example.test"));
    const leaf = new X509Certificate(row.certificate);
    expect(leaf.checkHost("shop.example.test")).toBe("shop.example.test");
    expect(leaf.publicKey.export({ format: "pem", type: "spki" })).toBe(createPublicKey(key).export({ format: "pem", type: "spki" }));
    // The ACME account key is encrypted too.
    const account = await cs.stack.database.db.selectFrom("acme_users").selectAll().executeTakeFirstOrThrow();
    expect(account.encrypted_key).not.toContain("PRIVATE KEY");
    expect(account.registration_uri).toContain("127.0.0.1");

    await waitFor("store to load the certificate", () => store.lookup("shop.example.test") !== undefined, { timeoutMs: 10_000 });
    // Through frontline's HTTPS listener, trusting only Pebble's root, to the environment's app.
    const res = await httpsGet("shop.example.test", "/hi");
    expect(res).toMatchObject({ status: 200, body: "hello from the app via shop.example.test (https)" });
    // Plain HTTP now redirects to HTTPS, except the ACME challenge path.
    expect(await httpGet("shop.example.test", "/hi?x=1")).toEqual({
      status: 308,
      location: `https://shop.example.test:${httpsPort}/hi?x=1`,
    });
    expect((await httpGet("shop.example.test", "/.well-known/acme-challenge/unknowntoken")).status).toBe(404);
    // A host without a certificate stays on HTTP.
    expect((await httpGet("hello-production-local.ctrl.example.net", "/")).status).toBe(200);
    // Verified: nobody else can claim it.
    const other = await otherWorkspace("squatter");
    expect((await other.add("shop.example.test")).status).toBe(409);
  });
});

describe("DNS-01", () => {
  it("issues a wildcard certificate through the challenge test server's DNS, only after the zone's TXT record is seen", async () => {
    const added = await addDomain("*.wild.example.test");
    expect(added.body.data).toMatchObject({
      challengeType: "dns-01",
      verificationRecord: { name: "_ctrl-challenge.wild.example.test", type: "TXT" },
    });
    await afterTwoMoreChecks("*.wild.example.test");
    await routes.nextRefresh(5_000);
    expect((await httpGet("api.wild.example.test", "/")).status).toBe(404);
    await expectNothingSentToAcme("*.wild.example.test");
    await cs.publishVerification("*.wild.example.test");
    await waitFor(
      "*.wild.example.test verified",
      async () => {
        const d = await getDomain("*.wild.example.test");
        if (d.challengeStatus === "failed") throw new Error(`failed: ${String(d.errorMessage)}`);
        return d.challengeStatus === "verified";
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const row = (await certificateRow("*.wild.example.test"))!;
    const leaf = new X509Certificate(row.certificate);
    expect(leaf.checkHost("anything.wild.example.test")).toBe("*.wild.example.test");
    expect(leaf.checkHost("a.b.wild.example.test")).toBeUndefined();
    expect(row.encrypted_private_key).not.toContain("PRIVATE KEY");
    // The TXT record was removed from the (fake) DNS once the challenge was done.
    const resolver = new Resolver();
    resolver.setServers([`127.0.0.1:${cs.pebble.dnsPort}`]);
    // (The cleanup is the step after the challenge is marked verified: wait for it, bounded.)
    await waitFor(
      "the ACME TXT record to be removed",
      async () => (await resolver.resolveTxt("_acme-challenge.wild.example.test").catch(() => [])).length === 0,
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    await waitFor("store to load the wildcard", () => store.lookup("api.wild.example.test") !== undefined, { timeoutMs: 10_000 });
    expect(await httpsGet("api.wild.example.test")).toMatchObject({
      status: 200,
      body: "hello from the app via api.wild.example.test (https)",
    });
  });
});

describe("renewal", () => {
  it("renews a certificate near expiry through the daily job and serves it without a restart, once per day", async () => {
    const before = (await certificateRow("shop.example.test"))!;
    const servedBefore = (await httpsGet("shop.example.test")).fingerprint;
    // Near expiry as far as the job is concerned (10 days < the 30-day window).
    await cs.stack.database.db
      .updateTable("certificates")
      .set({ expires_at: Date.now() + 10 * 86_400_000 })
      .where("id", "=", before.id)
      .execute();

    // A domain whose issuance never started (ctrl-api could not reach Restate): its challenge waits.
    const now = Date.now();
    const waitingDomainId = newId("dom");
    await cs.stack.database.db
      .insertInto("custom_domains")
      .values({
        id: waitingDomainId,
        workspace_id: cs.stack.seed.workspaceId,
        project_id: cs.stack.seed.projectId,
        environment_id: cs.stack.seed.environments.production,
        domain: "waiting.example.test",
        challenge_type: "http-01",
        verification_status: "verified",
        verification_value: "ctrl-domain-verification=w",
        verified_domain: "waiting.example.test",
        verified_at: now,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await cs.stack.database.db
      .insertInto("acme_challenges")
      .values({
        id: newId("chal"),
        workspace_id: cs.stack.seed.workspaceId,
        domain_id: waitingDomainId,
        token: null,
        authorization: null,
        type: "http-01",
        status: "waiting",
        error_message: null,
        expires_at: null,
        created_at: now,
        updated_at: now,
      })
      .execute();

    // A claim whose verification never started (ctrl-api could not reach Restate), added long ago.
    const unarmedId = newId("dom");
    await cs.stack.database.db
      .insertInto("custom_domains")
      .values({
        id: unarmedId,
        workspace_id: cs.stack.seed.workspaceId,
        project_id: cs.stack.seed.projectId,
        environment_id: cs.stack.seed.environments.production,
        domain: "unarmed.example.test",
        challenge_type: "http-01",
        verification_status: "pending_verification",
        verification_value: "ctrl-domain-verification=u",
        created_at: now - 3_600_000,
        updated_at: now - 3_600_000,
      })
      .execute();
    await cs.stack.database.db
      .insertInto("acme_challenges")
      .values({
        id: newId("chal"),
        workspace_id: cs.stack.seed.workspaceId,
        domain_id: unarmedId,
        token: null,
        authorization: null,
        type: "http-01",
        status: "waiting",
        error_message: null,
        expires_at: null,
        created_at: now,
        updated_at: now,
      })
      .execute();

    const job = cs.stack.deps.restate.objectClient<CertificateServiceApi>({ name: "CertificateService" }, "global");
    const day = Math.floor(Date.now() / 86_400_000) + 1000;
    // A short interval instead of a day, to watch the job reschedule itself (a delayed send).
    cs.certificates.renewIntervalMs = 300;
    const first: RenewExpiringResult = await job.renewExpiring({ day });
    // unproven.example.test's challenge waits too, but its claim is not verified: never issued.
    expect(first).toMatchObject({
      day,
      skipped: false,
      renewals: ["shop.example.test"],
      waiting: ["waiting.example.test"],
      verificationsArmed: [unarmedId],
    });
    // Its TXT record is looked for now (and it is still not issued: it waits, but is unverified).
    await waitFor(
      "the unarmed claim to be looked up",
      async () => (await claimRow("unarmed.example.test")).verification_checked_at !== null,
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    await waitFor("the waiting domain issued by the job", async () => (await certificateRow("waiting.example.test")) !== undefined, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    // The wildcard is not near expiry: untouched.
    expect(first.renewals).not.toContain("*.wild.example.test");
    // The next day's run comes by itself; then back to daily.
    await waitFor(
      "the self-scheduled next run",
      async () => {
        const res = await fetch(`${cs.stack.restate.adminUrl}/query`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify({
            query:
              "SELECT value_utf8 FROM state WHERE service_name = 'CertificateService' AND service_key = 'global' AND key = 'lastRunDay'",
          }),
        });
        const rows = ((await res.json()) as { rows?: { value_utf8: string }[] }).rows ?? [];
        return rows.length === 1 && Number(rows[0]!.value_utf8) >= day + 1;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    cs.certificates.renewIntervalMs = undefined;
    // A day that already ran (another replica's kick-off, a manual call): nothing happens.
    expect(await job.renewExpiring({ day })).toMatchObject({ day, skipped: true, renewals: [] });

    const after = await waitFor(
      "renewed certificate row",
      async () => {
        const row = (await certificateRow("shop.example.test"))!;
        return row.certificate !== before.certificate ? row : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect(after.id).toBe(before.id);
    expect(after.expires_at).toBeGreaterThan(Date.now() + 30 * 86_400_000);
    expect(after.encrypted_private_key).not.toBe(before.encrypted_private_key);
    const renewedFingerprint = new X509Certificate(after.certificate).fingerprint256;
    await waitFor(
      "the TLS listener to serve the renewed certificate",
      async () => (await httpsGet("shop.example.test")).fingerprint === renewedFingerprint,
      { timeoutMs: 10_000 },
    );
    expect(renewedFingerprint).not.toBe(servedBefore);
    expect((await getDomain("shop.example.test")).challengeStatus).toBe("verified");
  });
});

describe("failure and retry", () => {
  it("marks an unreachable challenge failed with the reason, and a retry after fixing DNS succeeds", async () => {
    // The domain points somewhere nothing answers: Pebble cannot fetch the challenge.
    await cs.setAddress("broken.example.test", "127.0.0.2");
    expect((await addDomain("broken.example.test")).status).toBe(201);
    await cs.publishVerification("broken.example.test");
    const failed = await waitFor(
      "broken.example.test failed",
      async () => {
        const d = await getDomain("broken.example.test");
        return d.challengeStatus === "failed" ? d : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    // Ownership was proven; the certificate is what failed.
    expect(failed).toMatchObject({ verificationStatus: "verified", state: "certificate_failed" });
    expect(String(failed.errorMessage)).toMatch(/^validation 0: /);
    expect(String(failed.errorMessage)).toMatch(/127\.0\.0\.2|connect|refused/i);
    expect(await certificateRow("broken.example.test")).toBeUndefined();

    await cs.setAddress("broken.example.test", null);
    const retried = await post("/v2/deploy.retryCustomDomain", { domain: "broken.example.test" });
    expect(retried.status).toBe(200);
    await waitFor(
      "broken.example.test verified after the retry",
      async () => {
        const d = await getDomain("broken.example.test");
        if (d.challengeStatus === "failed") throw new Error(`failed again: ${String(d.errorMessage)}`);
        return d.challengeStatus === "verified";
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    expect((await getDomain("broken.example.test")).errorMessage).toBeUndefined();
    expect(await certificateRow("broken.example.test")).toBeDefined();
  });
});

describe("concurrency", () => {
  it("issues several domains of a new workspace at once with a single ACME account", async () => {
    const db = cs.stack.database.db;
    const now = Date.now();
    const ws = newId("ws");
    const proj = newId("proj");
    const env = newId("env");
    await db.insertInto("workspaces").values({ id: ws, name: "acme", slug: "acme", created_at: now, updated_at: now }).execute();
    await db
      .insertInto("projects")
      .values({ id: proj, workspace_id: ws, name: "site", slug: "site", live_deployment_id: null, created_at: now, updated_at: now })
      .execute();
    await db
      .insertInto("environments")
      .values({ id: env, workspace_id: ws, project_id: proj, slug: "production", regions: null, created_at: now, updated_at: now })
      .execute();
    const { key } = await createRootKey(db, { workspaceId: ws, name: "acme", permissions: ["project.*.*"], now });
    const domains = ["a.acme.example.test", "b.acme.example.test", "c.acme.example.test"];
    const added = await Promise.all(
      domains.map((domain) =>
        fetch(`${cs.stack.apiUrl}/v2/deploy.addCustomDomain`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: JSON.stringify({ projectId: proj, environmentSlug: "production", domain }),
        }),
      ),
    );
    expect(added.map((r) => r.status)).toEqual([201, 201, 201]);
    await Promise.all(domains.map((domain) => cs.publishVerification(domain)));
    await waitFor(
      "all three issued",
      async () => {
        const rows = await db.selectFrom("certificates").select("hostname").where("workspace_id", "=", ws).execute();
        return rows.length === 3;
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    expect(await db.selectFrom("acme_users").select("id").where("workspace_id", "=", ws).execute()).toHaveLength(1);
  });
});

describe("vault key rotation", () => {
  it("re-wraps every stored secret under a new primary master key; the old key can then be retired", async () => {
    const db = cs.stack.database.db;
    const rotated = Vault.fromSpec(`k2:${Buffer.alloc(32, 7).toString("base64")},${cs.vaultKeys}`);
    const before = await db.selectFrom("certificates").select(["hostname", "encrypted_private_key"]).execute();
    expect(before.length).toBeGreaterThanOrEqual(3);
    let total = 0;
    for (let n = await rewrapSecrets(db, rotated, 2); n > 0; n = await rewrapSecrets(db, rotated, 2)) total += n;
    // Every certificate key and every ACME account key, in batches of two; nothing left afterwards.
    const accounts = await db.selectFrom("acme_users").select("id").execute();
    expect(total).toBe(before.length + accounts.length);
    expect(await rewrapSecrets(db, rotated)).toBe(0);

    const retired = Vault.fromSpec(`k2:${Buffer.alloc(32, 7).toString("base64")}`);
    for (const row of await db.selectFrom("certificates").select(["hostname", "encrypted_private_key"]).execute()) {
      expect(row.encrypted_private_key.startsWith("v1.k2.")).toBe(true);
      const old = before.find((b) => b.hostname === row.hostname)!;
      expect(retired.decryptString(row.encrypted_private_key, vaultContext.certificateKey(row.hostname))).toBe(
        cs.vault.decryptString(old.encrypted_private_key, vaultContext.certificateKey(row.hostname)),
      );
    }
    for (const account of await db.selectFrom("acme_users").selectAll().execute()) {
      expect(() => retired.decrypt(account.encrypted_key, vaultContext.acmeAccountKey(account.id))).not.toThrow();
    }
    // An edge that only knows the new key loads every certificate.
    const edge = createCertStore({ db, vault: retired });
    await edge.refresh();
    expect(edge.size).toBe(before.length);
  });
});
