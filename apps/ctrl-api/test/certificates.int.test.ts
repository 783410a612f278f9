/**
 * Certificates against a real ACME server: Debian's Pebble (started by the harness), real
 * restate-server, MariaDB, ctrl-api and the worker's CertificateService. Guarantees: HTTP-01 and
 * DNS-01 issuance end to end with the private key stored only encrypted; the certificate store
 * serves new and renewed certificates without a restart; an unreachable challenge fails with the
 * reason and a retry after fixing it succeeds; the renewal job is idempotent per day.
 */
import { createCertStore, type CertStore } from "@ctrl/certstore";
import type { CertificateServiceApi, RenewExpiringResult } from "@ctrl/ctrl-worker/api";
import { waitFor } from "@ctrl/testing";
import { vaultContext } from "@ctrl/vault";
import { createPublicKey, X509Certificate } from "node:crypto";
import { createServer, request, type Server } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCertStack, type CertStack } from "./cert-harness.js";

let cs: CertStack;
let store: CertStore;
let https: Server;
let httpsPort: number;
let root: string;

beforeAll(async () => {
  cs = await startCertStack();
  root = await cs.pebble.rootPem();
  store = createCertStore({ db: cs.stack.database.db, vault: cs.vault, pollIntervalMs: 100 });
  await store.start();
  https = createServer({ SNICallback: store.SNICallback }, (req, res) => res.end(`hello from ${req.headers.host}`));
  await new Promise<void>((r) => https.listen(0, "127.0.0.1", r));
  httpsPort = (https.address() as { port: number }).port;
});

afterAll(async () => {
  store?.stop();
  https?.close();
  await cs?.close();
});

async function post(path: string, body: unknown) {
  const res = await fetch(`${cs.stack.apiUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${cs.stack.seed.rootKey}` }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown>; error?: unknown } };
}

const addDomain = (domain: string) => post("/v2/deploy.addCustomDomain", { projectId: cs.stack.seed.projectId, environmentSlug: "production", domain });
const getDomain = async (domain: string) => (await post("/v2/deploy.getCustomDomain", { domain })).body.data!;

/** HTTPS GET for `host` through the TLS listener, trusting only Pebble's root. */
function httpsGet(host: string): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: httpsPort, servername: host, headers: { host }, path: "/", ca: root, agent: false }, (res) => {
      const fingerprint = (res.socket as import("node:tls").TLSSocket).getPeerCertificate().fingerprint256;
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, fingerprint }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function certificateRow(hostname: string) {
  return cs.stack.database.db.selectFrom("certificates").selectAll().where("hostname", "=", hostname).executeTakeFirst();
}

describe("HTTP-01", () => {
  it("issues a certificate for a custom domain, stores the key encrypted, and serves it over HTTPS", async () => {
    expect((await addDomain("shop.example.test")).status).toBe(201);
    const view = await waitFor("shop.example.test verified", async () => {
      const d = await getDomain("shop.example.test");
      if (d.challengeStatus === "failed") throw new Error(`failed: ${String(d.errorMessage)}`);
      return d.challengeStatus === "verified" ? d : undefined;
    }, { timeoutMs: 60_000, intervalMs: 100 });
    expect(view).toMatchObject({ verificationStatus: "verified", challengeType: "http-01" });
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
    const res = await httpsGet("shop.example.test");
    expect(res).toMatchObject({ status: 200, body: "hello from shop.example.test" });
  });
});

describe("DNS-01", () => {
  it("issues a wildcard certificate through the challenge test server's DNS", async () => {
    const added = await addDomain("*.wild.example.test");
    expect(added.body.data).toMatchObject({ challengeType: "dns-01" });
    await waitFor("*.wild.example.test verified", async () => {
      const d = await getDomain("*.wild.example.test");
      if (d.challengeStatus === "failed") throw new Error(`failed: ${String(d.errorMessage)}`);
      return d.challengeStatus === "verified";
    }, { timeoutMs: 60_000, intervalMs: 100 });
    const row = (await certificateRow("*.wild.example.test"))!;
    const leaf = new X509Certificate(row.certificate);
    expect(leaf.checkHost("anything.wild.example.test")).toBe("*.wild.example.test");
    expect(leaf.checkHost("a.b.wild.example.test")).toBeUndefined();
    expect(row.encrypted_private_key).not.toContain("PRIVATE KEY");
    await waitFor("store to load the wildcard", () => store.lookup("api.wild.example.test") !== undefined, { timeoutMs: 10_000 });
    expect(await httpsGet("api.wild.example.test")).toMatchObject({ status: 200, body: "hello from api.wild.example.test" });
  });
});

describe("renewal", () => {
  it("renews a certificate near expiry through the daily job and serves it without a restart, once per day", async () => {
    const before = (await certificateRow("shop.example.test"))!;
    const servedBefore = (await httpsGet("shop.example.test")).fingerprint;
    // Near expiry as far as the job is concerned (10 days < the 30-day window).
    await cs.stack.database.db.updateTable("certificates").set({ expires_at: Date.now() + 10 * 86_400_000 }).where("id", "=", before.id).execute();

    const job = cs.stack.deps.restate.objectClient<CertificateServiceApi>({ name: "CertificateService" }, "global");
    const day = Math.floor(Date.now() / 86_400_000) + 1000;
    const first: RenewExpiringResult = await job.renewExpiring({ day });
    expect(first).toMatchObject({ day, skipped: false, renewals: ["shop.example.test"] });
    // The wildcard is not near expiry: untouched.
    expect(first.renewals).not.toContain("*.wild.example.test");
    // The same day again (another replica's kick-off, a manual call): nothing happens.
    expect(await job.renewExpiring({ day })).toMatchObject({ day, skipped: true, renewals: [] });

    const after = await waitFor("renewed certificate row", async () => {
      const row = (await certificateRow("shop.example.test"))!;
      return row.certificate !== before.certificate ? row : undefined;
    }, { timeoutMs: 60_000, intervalMs: 100 });
    expect(after.id).toBe(before.id);
    expect(after.expires_at).toBeGreaterThan(Date.now() + 30 * 86_400_000);
    expect(after.encrypted_private_key).not.toBe(before.encrypted_private_key);
    const renewedFingerprint = new X509Certificate(after.certificate).fingerprint256;
    await waitFor("the TLS listener to serve the renewed certificate", async () => (await httpsGet("shop.example.test")).fingerprint === renewedFingerprint, { timeoutMs: 10_000 });
    expect(renewedFingerprint).not.toBe(servedBefore);
    expect((await getDomain("shop.example.test")).challengeStatus).toBe("verified");
  });
});

describe("failure and retry", () => {
  it("marks an unreachable challenge failed with the reason, and a retry after fixing DNS succeeds", async () => {
    // The domain points somewhere nothing answers: Pebble cannot fetch the challenge.
    await cs.setAddress("broken.example.test", "127.0.0.2");
    expect((await addDomain("broken.example.test")).status).toBe(201);
    const failed = await waitFor("broken.example.test failed", async () => {
      const d = await getDomain("broken.example.test");
      return d.challengeStatus === "failed" ? d : undefined;
    }, { timeoutMs: 60_000, intervalMs: 100 });
    expect(failed.verificationStatus).toBe("failed");
    expect(String(failed.errorMessage)).toMatch(/^validation 0: /);
    expect(String(failed.errorMessage)).toMatch(/127\.0\.0\.2|connect|refused/i);
    expect(await certificateRow("broken.example.test")).toBeUndefined();

    await cs.setAddress("broken.example.test", null);
    const retried = await post("/v2/deploy.retryCustomDomain", { domain: "broken.example.test" });
    expect(retried.status).toBe(200);
    await waitFor("broken.example.test verified after the retry", async () => {
      const d = await getDomain("broken.example.test");
      if (d.challengeStatus === "failed") throw new Error(`failed again: ${String(d.errorMessage)}`);
      return d.challengeStatus === "verified";
    }, { timeoutMs: 60_000, intervalMs: 100 });
    expect((await getDomain("broken.example.test")).errorMessage).toBeUndefined();
    expect(await certificateRow("broken.example.test")).toBeDefined();
  });
});
