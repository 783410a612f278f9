import type { Transaction } from "kysely";
import type { Db } from "../pool.js";
import type { Database } from "../schema.js";
import type { AcmeChallenge, ChallengeStatus, NewAcmeChallenge } from "../tables/acme-challenges.js";
import type { AcmeUser, NewAcmeUser } from "../tables/acme-users.js";
import type { Certificate } from "../tables/certificates.js";

/**
 * Certificates and what issues them: ACME challenges and ACME accounts. The worker's
 * CertificateService writes them (it opens the transactions), ctrl-api serves the HTTP-01 key
 * authorization, edge certificate stores poll `certificates` by `updated_at`.
 */

/** What issuance needs to know about a verified custom domain (public data only: the worker journals it). */
export interface DomainCertificateState {
  domainId: string;
  workspaceId: string;
  challengeId: string;
  challengeType: "http-01" | "dns-01";
  challengeStatus: ChallengeStatus;
  certificate: { id: string; expiresAt: number } | null;
}

/**
 * The verified claim of `domain` with its challenge and current certificate, or undefined when no
 * claim of the name is verified (an unproven name is never sent to ACME).
 */
export async function findDomainCertificateState(db: Db, domain: string): Promise<DomainCertificateState | undefined> {
  const row = await db
    .selectFrom("custom_domains as d")
    .innerJoin("acme_challenges as c", "c.domain_id", "d.id")
    .leftJoin("certificates as cert", "cert.hostname", "d.domain")
    .select([
      "d.id as domainId",
      "d.workspace_id as workspaceId",
      "c.id as challengeId",
      "c.type as challengeType",
      "c.status as challengeStatus",
      "cert.id as certId",
      "cert.expires_at as certExpiresAt",
    ])
    .where("d.verified_domain", "=", domain)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    domainId: row.domainId,
    workspaceId: row.workspaceId,
    challengeId: row.challengeId,
    challengeType: row.challengeType,
    challengeStatus: row.challengeStatus,
    certificate: row.certId ? { id: row.certId, expiresAt: Number(row.certExpiresAt) } : null,
  };
}

/** The HTTP-01 token and key authorization of the verified claim of `domain`, or undefined. */
export async function findHttpChallengeOfVerifiedDomain(
  db: Db,
  domain: string,
): Promise<Pick<AcmeChallenge, "token" | "authorization"> | undefined> {
  return (
    db
      .selectFrom("custom_domains as d")
      .innerJoin("acme_challenges as c", "c.domain_id", "d.id")
      .select(["c.token", "c.authorization"])
      // Only the verified claim of a name is ever sent to ACME; a pending claim's row is never served.
      .where("d.verified_domain", "=", domain)
      .where("c.type", "=", "http-01")
      .executeTakeFirst()
  );
}

/** Inserts a custom domain's ACME challenge row. */
export async function insertAcmeChallenge(db: Db, challenge: NewAcmeChallenge): Promise<void> {
  await db.insertInto("acme_challenges").values(challenge).execute();
}

/** Moves a challenge to `status`, recording the reason (null clears it). */
export async function setAcmeChallengeStatus(
  db: Db,
  challengeId: string,
  status: ChallengeStatus,
  errorMessage: string | null,
  now: number,
): Promise<void> {
  await db
    .updateTable("acme_challenges")
    .set({ status, error_message: errorMessage, updated_at: now })
    .where("id", "=", challengeId)
    .execute();
}

/** Records the HTTP-01 token and key authorization of a challenge and marks it `pending`. */
export async function storeHttpChallenge(
  db: Db,
  challengeId: string,
  token: string,
  keyAuthorization: string,
  expiresAt: number | null,
  now: number,
): Promise<void> {
  await db
    .updateTable("acme_challenges")
    .set({ token, authorization: keyAuthorization, expires_at: expiresAt, status: "pending", updated_at: now })
    .where("id", "=", challengeId)
    .execute();
}

/** Sets a domain's challenge back to `waiting` if it `failed`; false when it had not failed. */
export async function resetFailedChallenge(db: Db, domainId: string, now: number): Promise<boolean> {
  const reset = await db
    .updateTable("acme_challenges")
    .set({ status: "waiting", updated_at: now })
    .where("domain_id", "=", domainId)
    .where("status", "=", "failed")
    .executeTakeFirst();
  return Number(reset.numUpdatedRows) > 0;
}

/** The id of the workspace's registered ACME account for `directoryUrl`, or undefined. */
export async function findRegisteredAcmeAccountId(db: Db, workspaceId: string, directoryUrl: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("acme_users")
    .select("id")
    .where("workspace_id", "=", workspaceId)
    .where("directory_url", "=", directoryUrl)
    .where("registration_uri", "is not", null)
    .executeTakeFirst();
  return row?.id;
}

/** Stores a registered ACME account (its key already encrypted). */
export async function insertAcmeAccount(db: Db, account: NewAcmeUser): Promise<void> {
  await db.insertInto("acme_users").values(account).execute();
}

/** The stored ACME account; throws when it does not exist (an account id is only ever read after it was stored). */
export async function getAcmeAccount(db: Db, accountId: string): Promise<AcmeUser> {
  return db.selectFrom("acme_users").selectAll().where("id", "=", accountId).executeTakeFirstOrThrow();
}

/** A certificate to store for a hostname. */
export interface CertificateWrite {
  /** Used when the hostname has no certificate yet. */
  newId: string;
  workspaceId: string;
  hostname: string;
  chainPem: string;
  encryptedKey: string;
  expiresAt: number;
  now: number;
}

/**
 * Stores the hostname's certificate, one row per hostname: a renewal replaces the chain and key
 * and bumps `updated_at` (what edge stores poll for), keeping the row's id. Locks the hostname's
 * row (`FOR UPDATE`), so it runs inside the caller's transaction. Returns the certificate id.
 */
export async function upsertCertificate(trx: Transaction<Database>, c: CertificateWrite): Promise<string> {
  const existing = await trx.selectFrom("certificates").select("id").where("hostname", "=", c.hostname).forUpdate().executeTakeFirst();
  if (existing) {
    await trx
      .updateTable("certificates")
      .set({ certificate: c.chainPem, encrypted_private_key: c.encryptedKey, expires_at: c.expiresAt, updated_at: c.now })
      .where("id", "=", existing.id)
      .execute();
    return existing.id;
  }
  await trx
    .insertInto("certificates")
    .values({
      id: c.newId,
      workspace_id: c.workspaceId,
      hostname: c.hostname,
      certificate: c.chainPem,
      encrypted_private_key: c.encryptedKey,
      expires_at: c.expiresAt,
      created_at: c.now,
      updated_at: c.now,
    })
    .execute();
  return c.newId;
}

/**
 * What the daily renewal job acts on: verified domains whose certificate expires before `before`
 * (soonest first), verified domains whose challenge waits (oldest first), and claims (ids) pending
 * verification that were never looked up although created before `unarmedBefore` (oldest first).
 */
export async function listCertificateRenewalWork(
  db: Db,
  before: number,
  unarmedBefore = 0,
): Promise<{ expiring: string[]; waiting: string[]; unarmed: string[] }> {
  const expiring = await db
    .selectFrom("certificates as cert")
    .innerJoin("custom_domains as d", "d.verified_domain", "cert.hostname")
    .select("d.domain")
    .where("cert.expires_at", "<", before)
    .orderBy("cert.expires_at")
    .execute();
  const waiting = await db
    .selectFrom("acme_challenges as c")
    .innerJoin("custom_domains as d", "d.id", "c.domain_id")
    .select("d.domain")
    .where("c.status", "=", "waiting")
    .where("d.verification_status", "=", "verified")
    .orderBy("c.created_at")
    .execute();
  const unarmed = await db
    .selectFrom("custom_domains")
    .select("id")
    .where("verification_status", "=", "pending_verification")
    .where("verification_checked_at", "is", null)
    .where("created_at", "<", unarmedBefore)
    .orderBy("created_at")
    .execute();
  return { expiring: expiring.map((r) => r.domain), waiting: waiting.map((r) => r.domain), unarmed: unarmed.map((r) => r.id) };
}

/** Escapes `%`, `_` and `\` for a MySQL LIKE pattern (default escape character `\`). */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Up to `limit` certificates whose encrypted key does not start with `prefix` (key rotation). */
export async function listCertificateKeysWithoutPrefix(
  db: Db,
  prefix: string,
  limit: number,
): Promise<Pick<Certificate, "id" | "encrypted_private_key">[]> {
  return db
    .selectFrom("certificates")
    .select(["id", "encrypted_private_key"])
    .where("encrypted_private_key", "not like", `${escapeLike(prefix)}%`)
    .limit(limit)
    .execute();
}

/** Replaces a certificate's encrypted key only if it still holds `expected`; false when it changed meanwhile. */
export async function replaceCertificateKey(db: Db, certificateId: string, expected: string, next: string): Promise<boolean> {
  const res = await db
    .updateTable("certificates")
    .set({ encrypted_private_key: next })
    .where("id", "=", certificateId)
    .where("encrypted_private_key", "=", expected)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Up to `limit` ACME accounts whose encrypted key does not start with `prefix` (key rotation). */
export async function listAcmeAccountKeysWithoutPrefix(
  db: Db,
  prefix: string,
  limit: number,
): Promise<Pick<AcmeUser, "id" | "encrypted_key">[]> {
  return db
    .selectFrom("acme_users")
    .select(["id", "encrypted_key"])
    .where("encrypted_key", "not like", `${escapeLike(prefix)}%`)
    .limit(limit)
    .execute();
}

/** Replaces an ACME account's encrypted key only if it still holds `expected`; false when it changed meanwhile. */
export async function replaceAcmeAccountKey(db: Db, accountId: string, expected: string, next: string): Promise<boolean> {
  const res = await db
    .updateTable("acme_users")
    .set({ encrypted_key: next })
    .where("id", "=", accountId)
    .where("encrypted_key", "=", expected)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** The id, hostname and `updated_at` of every certificate: what an edge store compares with what it loaded. */
export async function listCertificateVersions(db: Db): Promise<Pick<Certificate, "id" | "hostname" | "updated_at">[]> {
  return db.selectFrom("certificates").select(["id", "hostname", "updated_at"]).execute();
}

/** The certificates with the given ids (any order; an empty list reads nothing). */
export async function listCertificatesByIds(db: Db, ids: string[]): Promise<Certificate[]> {
  if (ids.length === 0) return [];
  return db.selectFrom("certificates").selectAll().where("id", "in", ids).execute();
}
