/**
 * Custom domain queries against a real database: a claim lookup prefers the asked workspace's
 * claim, else the verified one, else the oldest; only verified names of the environment are
 * routed; a retry reopens a pending or failed claim but never a verified one; ownership conflicts
 * follow the one-label wildcard rule and ignore the same workspace; verification is won once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  customDomainExists,
  findCustomDomain,
  findCustomDomainClaim,
  insertAcmeChallenge,
  insertCustomDomain,
  listVerifiedCustomDomainNames,
  markDomainVerified,
  ownershipConflict,
  recordVerificationCheck,
  reopenCustomDomainVerification,
  touchCustomDomain,
  upsertCertificate,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedClaim, seedProject } from "./helpers.js";

let database: TestDatabase;
const ws2 = { workspace_id: "ws_2", project_id: "proj_2", environment_id: "env_2" };

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  await seedProject(db, {
    workspaceId: "ws_1",
    projectId: "proj_1",
    environmentIds: [
      { id: "env_1", slug: "production" },
      { id: "env_1b", slug: "preview" },
    ],
  });
  await seedProject(db, { workspaceId: "ws_2", projectId: "proj_2", environmentIds: [{ id: "env_2", slug: "production" }] });
  // shop.example.com: claimed by ws_2 first (pending), verified later by ws_1.
  await seedClaim(db, { ...ws2, id: "dom_2shop", domain: "shop.example.com", created_at: 1 });
  await seedClaim(db, {
    id: "dom_shop",
    domain: "shop.example.com",
    environment_id: "env_1",
    verification_status: "verified",
    created_at: 5,
  });
  await seedClaim(db, { id: "dom_api", domain: "api.example.com", environment_id: "env_1", verification_status: "verified" });
  await seedClaim(db, { id: "dom_pend", domain: "pending.example.com", environment_id: "env_1" });
  await seedClaim(db, { id: "dom_prev", domain: "preview.example.com", environment_id: "env_1b", verification_status: "verified" });
  await database.db.transaction().execute((trx) =>
    upsertCertificate(trx, {
      newId: "cert_shop",
      workspaceId: "ws_1",
      hostname: "shop.example.com",
      chainPem: "pem",
      encryptedKey: "k",
      expiresAt: 9_000,
      now: 1,
    }),
  );
});

afterAll(async () => {
  await database?.drop();
});

describe("lookups", () => {
  it("finds a claim by id and says whether one exists by id or name", async () => {
    expect((await findCustomDomain(database.db, "dom_api"))?.domain).toBe("api.example.com");
    expect(await findCustomDomain(database.db, "dom_missing")).toBeUndefined();
    expect(await customDomainExists(database.db, { id: "dom_pend" })).toBe(true);
    expect(await customDomainExists(database.db, { domain: "shop.example.com" })).toBe(true);
    expect(await customDomainExists(database.db, { id: "dom_missing" })).toBe(false);
    expect(await customDomainExists(database.db, { domain: "nobody.example.com" })).toBe(false);
  });

  it("lists the environment's verified names only, sorted", async () => {
    expect(await listVerifiedCustomDomainNames(database.db, "env_1")).toEqual(["api.example.com", "shop.example.com"]);
    expect(await listVerifiedCustomDomainNames(database.db, "env_2")).toEqual([]);
  });

  it("picks the workspace's claim when asked, else the verified one, with its challenge and certificate", async () => {
    expect(await findCustomDomainClaim(database.db, "shop.example.com")).toMatchObject({
      id: "dom_shop",
      workspace_id: "ws_1",
      verification_status: "verified",
      challenge_status: "waiting",
      expires_at: 9_000,
    });
    // ws_2's pending claim of the same name has no certificate (certificates follow the verified claim).
    expect(await findCustomDomainClaim(database.db, "shop.example.com", "ws_2")).toMatchObject({ id: "dom_2shop", expires_at: null });
    expect(await findCustomDomainClaim(database.db, "api.example.com", "ws_2")).toBeUndefined();
    expect(await findCustomDomainClaim(database.db, "nobody.example.com")).toBeUndefined();
  });

  it("falls back to the oldest claim when none is verified", async () => {
    await seedClaim(database.db, { ...ws2, id: "dom_2new", domain: "new.example.com", created_at: 9 });
    await seedClaim(database.db, { id: "dom_1new", domain: "new.example.com", environment_id: "env_1", created_at: 8 });
    expect((await findCustomDomainClaim(database.db, "new.example.com"))?.id).toBe("dom_1new");
  });
});

describe("writes", () => {
  it("inserts a claim with its challenge", async () => {
    await insertCustomDomain(database.db, {
      id: "dom_ins",
      workspace_id: "ws_1",
      project_id: "proj_1",
      environment_id: "env_1",
      domain: "ins.example.com",
      challenge_type: "dns-01",
      verification_status: "pending_verification",
      verification_value: "val",
      verification_error: null,
      verification_checked_at: null,
      verified_at: null,
      verified_domain: null,
      created_at: 20,
      updated_at: 20,
    });
    await insertAcmeChallenge(database.db, {
      id: "chal_ins",
      workspace_id: "ws_1",
      domain_id: "dom_ins",
      token: null,
      authorization: null,
      type: "dns-01",
      status: "waiting",
      error_message: null,
      expires_at: null,
      created_at: 20,
      updated_at: 20,
    });
    expect(await findCustomDomainClaim(database.db, "ins.example.com")).toMatchObject({
      id: "dom_ins",
      challenge_type: "dns-01",
      challenge_status: "waiting",
      verification_value: "val",
    });
    await expect(
      insertAcmeChallenge(database.db, {
        id: "chal_ins2",
        workspace_id: "ws_1",
        domain_id: "dom_ins",
        token: null,
        authorization: null,
        type: "dns-01",
        status: "waiting",
        error_message: null,
        expires_at: null,
        created_at: 20,
        updated_at: 20,
      }),
    ).rejects.toMatchObject({ code: "ER_DUP_ENTRY" });
  });

  it("reopens a pending or failed claim's verification, never a verified one", async () => {
    await recordVerificationCheck(database.db, "dom_pend", "no TXT record yet", true, 30);
    expect(await findCustomDomain(database.db, "dom_pend")).toMatchObject({
      verification_status: "failed",
      verification_error: "no TXT record yet",
    });
    await reopenCustomDomainVerification(database.db, "dom_pend", 31);
    expect(await findCustomDomain(database.db, "dom_pend")).toMatchObject({
      verification_status: "pending_verification",
      verification_error: null,
      updated_at: 31,
    });
    await reopenCustomDomainVerification(database.db, "dom_api", 31);
    expect((await findCustomDomain(database.db, "dom_api"))?.verification_status).toBe("verified");
  });

  it("touches a claim's updated_at", async () => {
    await touchCustomDomain(database.db, "dom_api", 77);
    expect((await findCustomDomain(database.db, "dom_api"))?.updated_at).toBe(77);
  });
});

describe("ownership", () => {
  it("conflicts with another workspace's verified name or overlapping wildcard, never the same workspace's", async () => {
    expect(await ownershipConflict(database.db, "ws_2", "shop.example.com")).toBe("shop.example.com");
    expect(await ownershipConflict(database.db, "ws_1", "shop.example.com")).toBeUndefined();
    expect(await ownershipConflict(database.db, "ws_2", "*.example.com")).toMatch(/^(shop|api|preview)\.example\.com$/);
    expect(await ownershipConflict(database.db, "ws_2", "*.other.com")).toBeUndefined();
    expect(await ownershipConflict(database.db, "ws_2", "deep.shop.example.com")).toBeUndefined();
  });

  it("verifies a pending claim once and fails other workspaces' pending claims of the name", async () => {
    expect((await markDomainVerified(database.db, "dom_1new", 40)).outcome).toBe("verified");
    expect((await markDomainVerified(database.db, "dom_1new", 41)).outcome).toBe("already_verified");
    expect(await findCustomDomain(database.db, "dom_2new")).toMatchObject({ verification_status: "failed" });
    expect(await markDomainVerified(database.db, "dom_2new", 42)).toEqual({ outcome: "not_pending", status: "failed" });
    expect(await markDomainVerified(database.db, "dom_missing", 42)).toEqual({ outcome: "gone" });
  });
});
