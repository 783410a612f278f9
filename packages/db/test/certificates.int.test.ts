/**
 * Certificate and ACME queries against a real database: only a verified claim's challenge is ever
 * used or served; a certificate is one row per hostname that a renewal replaces in place; the
 * renewal work lists filter and order; key rotation matches its prefix literally and never
 * overwrites a key that changed since it was read.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  findDomainCertificateState,
  findHttpChallengeOfVerifiedDomain,
  findRegisteredAcmeAccountId,
  getAcmeAccount,
  insertAcmeAccount,
  listAcmeAccountKeysWithoutPrefix,
  listCertificateKeysWithoutPrefix,
  listCertificateRenewalWork,
  listCertificatesByIds,
  listCertificateVersions,
  replaceAcmeAccountKey,
  replaceCertificateKey,
  resetFailedChallenge,
  setAcmeChallengeStatus,
  storeHttpChallenge,
  upsertCertificate,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedClaim, seedProject } from "./helpers.js";

let database: TestDatabase;

const cert = (hostname: string, now: number, extra: Partial<{ expiresAt: number; encryptedKey: string; newId: string }> = {}) => ({
  newId: extra.newId ?? `cert_${hostname}`,
  workspaceId: "ws_1",
  hostname,
  chainPem: `chain-${now}`,
  encryptedKey: extra.encryptedKey ?? `v1.k1.${now}`,
  expiresAt: extra.expiresAt ?? 1_000,
  now,
});

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  await seedProject(db, { workspaceId: "ws_1", projectId: "proj_1", environmentIds: [{ id: "env_1", slug: "production" }] });
  await seedClaim(db, { id: "dom_v", domain: "v.example.com", environment_id: "env_1", verification_status: "verified" });
  await seedClaim(db, { id: "dom_p", domain: "p.example.com", environment_id: "env_1", created_at: 5 });
  await seedClaim(db, { id: "dom_p0", domain: "p0.example.com", environment_id: "env_1", created_at: 3 });
  await seedClaim(db, {
    id: "dom_dns",
    domain: "dns.example.com",
    environment_id: "env_1",
    verification_status: "verified",
    challenge_type: "dns-01",
  });
});

afterAll(async () => {
  await database?.drop();
});

describe("challenges", () => {
  it("finds the issuance state of a verified claim only", async () => {
    expect(await findDomainCertificateState(database.db, "p.example.com")).toBeUndefined();
    expect(await findDomainCertificateState(database.db, "unknown.example.com")).toBeUndefined();
    expect(await findDomainCertificateState(database.db, "v.example.com")).toEqual({
      domainId: "dom_v",
      workspaceId: "ws_1",
      challengeId: "chal_dom_v",
      challengeType: "http-01",
      challengeStatus: "waiting",
      certificate: null,
    });
  });

  it("serves the HTTP-01 key authorization of a verified http-01 claim only", async () => {
    await storeHttpChallenge(database.db, "chal_dom_v", "tok", "tok.key", 99, 2);
    await storeHttpChallenge(database.db, "chal_dom_p", "tok-p", "tok-p.key", 99, 2);
    await storeHttpChallenge(database.db, "chal_dom_dns", "tok-d", "tok-d.key", 99, 2);
    expect(await findHttpChallengeOfVerifiedDomain(database.db, "v.example.com")).toEqual({ token: "tok", authorization: "tok.key" });
    expect(await findHttpChallengeOfVerifiedDomain(database.db, "p.example.com")).toBeUndefined();
    expect(await findHttpChallengeOfVerifiedDomain(database.db, "dns.example.com")).toBeUndefined();
    expect((await findDomainCertificateState(database.db, "v.example.com"))?.challengeStatus).toBe("pending");
  });

  it("resets a challenge to waiting only when it failed", async () => {
    expect(await resetFailedChallenge(database.db, "dom_dns", 3)).toBe(false);
    await setAcmeChallengeStatus(database.db, "chal_dom_dns", "failed", "rate limited", 3);
    expect((await findDomainCertificateState(database.db, "dns.example.com"))?.challengeStatus).toBe("failed");
    expect(await resetFailedChallenge(database.db, "dom_dns", 4)).toBe(true);
    expect((await findDomainCertificateState(database.db, "dns.example.com"))?.challengeStatus).toBe("waiting");
  });
});

describe("certificates", () => {
  it("stores one row per hostname: a renewal keeps the id and replaces chain, key, expiry and updated_at", async () => {
    const first = await database.db.transaction().execute((trx) => upsertCertificate(trx, cert("v.example.com", 10)));
    expect(first).toBe("cert_v.example.com");
    const again = await database.db
      .transaction()
      .execute((trx) => upsertCertificate(trx, cert("v.example.com", 20, { newId: "cert_other", expiresAt: 2_000 })));
    expect(again).toBe(first);
    const rows = await listCertificatesByIds(database.db, [first, "cert_other"]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      certificate: "chain-20",
      encrypted_private_key: "v1.k1.20",
      expires_at: 2_000,
      created_at: 10,
      updated_at: 20,
    });
    expect((await findDomainCertificateState(database.db, "v.example.com"))?.certificate).toEqual({ id: first, expiresAt: 2_000 });
    expect(await listCertificateVersions(database.db)).toEqual([{ id: first, hostname: "v.example.com", updated_at: 20 }]);
    expect(await listCertificatesByIds(database.db, [])).toEqual([]);
  });

  it("lists expiring certificates, waiting challenges of verified domains and never-checked pending claims", async () => {
    await database.db.transaction().execute((trx) => upsertCertificate(trx, cert("dns.example.com", 30, { expiresAt: 1_500 })));
    expect(await listCertificateRenewalWork(database.db, 2_500, 4)).toEqual({
      expiring: ["dns.example.com", "v.example.com"],
      waiting: ["dns.example.com"],
      unarmed: ["dom_p0"],
    });
    expect(await listCertificateRenewalWork(database.db, 1_500, 10)).toEqual({
      expiring: [],
      waiting: ["dns.example.com"],
      unarmed: ["dom_p0", "dom_p"],
    });
    expect((await listCertificateRenewalWork(database.db, 0)).unarmed).toEqual([]);
  });
});

describe("ACME accounts and key rotation", () => {
  it("finds a registered account of the workspace and directory only", async () => {
    await insertAcmeAccount(database.db, {
      id: "acme_unregistered",
      workspace_id: "ws_1",
      directory_url: "https://acme/dir",
      encrypted_key: "v1.k1.a",
      registration_uri: null,
      created_at: 1,
    });
    expect(await findRegisteredAcmeAccountId(database.db, "ws_1", "https://acme/dir")).toBeUndefined();
    await insertAcmeAccount(database.db, {
      id: "acme_1",
      workspace_id: "ws_1",
      directory_url: "https://acme/dir",
      encrypted_key: "v1.k_1.b",
      registration_uri: "https://acme/acct/1",
      created_at: 1,
    });
    expect(await findRegisteredAcmeAccountId(database.db, "ws_1", "https://acme/dir")).toBe("acme_1");
    expect(await findRegisteredAcmeAccountId(database.db, "ws_1", "https://other/dir")).toBeUndefined();
    expect((await getAcmeAccount(database.db, "acme_1")).registration_uri).toBe("https://acme/acct/1");
    await expect(getAcmeAccount(database.db, "acme_missing")).rejects.toThrow();
  });

  it("lists keys not under a prefix taken literally, and replaces a key only if it is unchanged", async () => {
    // `_` in the key id must not act as a LIKE wildcard: `v1.k_1.` does not cover `v1.kx1.`.
    await database.db
      .updateTable("certificates")
      .set({ encrypted_private_key: "v1.kx1.c" })
      .where("hostname", "=", "dns.example.com")
      .execute();
    const certs = await listCertificateKeysWithoutPrefix(database.db, "v1.k_1.", 10);
    expect(certs.map((c) => c.encrypted_private_key).sort()).toEqual(["v1.k1.20", "v1.kx1.c"]);
    expect((await listAcmeAccountKeysWithoutPrefix(database.db, "v1.k_1.", 10)).map((a) => a.id)).toEqual(["acme_unregistered"]);
    expect(await listCertificateKeysWithoutPrefix(database.db, "v1.k_1.", 1)).toHaveLength(1);

    const [stale] = certs;
    expect(await replaceCertificateKey(database.db, stale!.id, "not-what-is-stored", "v1.k_1.new")).toBe(false);
    expect(await replaceCertificateKey(database.db, stale!.id, stale!.encrypted_private_key, "v1.k_1.new")).toBe(true);
    expect(await replaceAcmeAccountKey(database.db, "acme_unregistered", "v1.k1.a", "v1.k_1.a")).toBe(true);
    expect(await replaceAcmeAccountKey(database.db, "acme_unregistered", "v1.k1.a", "v1.k_1.z")).toBe(false);
    expect(await listCertificateKeysWithoutPrefix(database.db, "v1.k_1.", 10)).toHaveLength(1);
    expect(await listAcmeAccountKeysWithoutPrefix(database.db, "v1.k_1.", 10)).toEqual([]);
  });
});
