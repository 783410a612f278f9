import { newId, type ChallengeStatus, type Db } from "@ctrl/db";
import { vaultContext, type Vault } from "@ctrl/vault";
import { acmeClient, newPrivateKeyPem } from "./acme.js";

/** What the workflow needs to know about a custom domain (public data only: it is journaled). */
export interface DomainState {
  domainId: string;
  workspaceId: string;
  challengeId: string;
  challengeType: "http-01" | "dns-01";
  challengeStatus: ChallengeStatus;
  certificate: { id: string; expiresAt: number } | null;
}

/**
 * Loads the verified claim of a custom domain with its challenge and current certificate, or
 * undefined when no claim of the name is verified (an unproven name is never sent to ACME).
 */
export async function loadDomainState(db: Db, domain: string): Promise<DomainState | undefined> {
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

/**
 * Moves a challenge to `status`, recording the reason. (The domain's `verification_status` is its
 * ownership proof, DomainVerificationService's business; only `updated_at` moves here.)
 */
export async function setChallengeStatus(
  db: Db,
  state: Pick<DomainState, "challengeId" | "domainId">,
  status: ChallengeStatus,
  errorMessage: string | null,
  now: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable("acme_challenges")
      .set({ status, error_message: errorMessage, updated_at: now })
      .where("id", "=", state.challengeId)
      .execute();
    await trx.updateTable("custom_domains").set({ updated_at: now }).where("id", "=", state.domainId).execute();
  });
}

/** Records the HTTP-01 token and key authorization frontline serves through VerifyCertificate. */
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

/** ACME settings the certificate steps share. */
export interface AcmeAccountSettings {
  directoryUrl: string;
  email: string;
}

/**
 * Returns the workspace's ACME account id for the directory, registering one (ECDSA key encrypted
 * by the vault) when none exists. The workspace row is locked so that two domains of one workspace
 * issued at the same time do not register two accounts.
 */
export async function ensureAcmeAccount(
  db: Db,
  vault: Vault,
  settings: AcmeAccountSettings,
  workspaceId: string,
  now: number,
): Promise<string> {
  return db.transaction().execute(async (trx) => {
    await trx.selectFrom("workspaces").select("id").where("id", "=", workspaceId).forUpdate().executeTakeFirst();
    const existing = await trx
      .selectFrom("acme_users")
      .select("id")
      .where("workspace_id", "=", workspaceId)
      .where("directory_url", "=", settings.directoryUrl)
      .where("registration_uri", "is not", null)
      .executeTakeFirst();
    if (existing) return existing.id;
    const id = newId("acme");
    const keyPem = await newPrivateKeyPem();
    const client = acmeClient(settings.directoryUrl, keyPem);
    await client.createAccount({ termsOfServiceAgreed: true, contact: settings.email ? [`mailto:${settings.email}`] : [] });
    await trx
      .insertInto("acme_users")
      .values({
        id,
        workspace_id: workspaceId,
        directory_url: settings.directoryUrl,
        encrypted_key: vault.encrypt(keyPem, vaultContext.acmeAccountKey(id)),
        registration_uri: client.getAccountUrl(),
        created_at: now,
      })
      .execute();
    return id;
  });
}

/** An ACME client for a stored account (decrypts its key; use inside a step only). */
export async function clientForAccount(db: Db, vault: Vault, accountId: string) {
  const row = await db.selectFrom("acme_users").selectAll().where("id", "=", accountId).executeTakeFirstOrThrow();
  const keyPem = vault.decryptString(row.encrypted_key, vaultContext.acmeAccountKey(row.id));
  return acmeClient(row.directory_url, keyPem, row.registration_uri ?? undefined);
}

/**
 * Stores an issued certificate (one row per hostname: a renewal replaces the chain and key and bumps
 * `updated_at`, which is what edge certificate stores poll for) and marks the challenge verified.
 */
export async function storeCertificate(
  db: Db,
  state: Pick<DomainState, "challengeId" | "domainId" | "workspaceId">,
  hostname: string,
  chainPem: string,
  encryptedKey: string,
  expiresAt: number,
  now: number,
): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom("certificates").select("id").where("hostname", "=", hostname).forUpdate().executeTakeFirst();
    let id: string;
    if (existing) {
      id = existing.id;
      await trx
        .updateTable("certificates")
        .set({ certificate: chainPem, encrypted_private_key: encryptedKey, expires_at: expiresAt, updated_at: now })
        .where("id", "=", id)
        .execute();
    } else {
      id = newId("cert");
      await trx
        .insertInto("certificates")
        .values({
          id,
          workspace_id: state.workspaceId,
          hostname,
          certificate: chainPem,
          encrypted_private_key: encryptedKey,
          expires_at: expiresAt,
          created_at: now,
          updated_at: now,
        })
        .execute();
    }
    await trx
      .updateTable("acme_challenges")
      .set({ status: "verified", error_message: null, updated_at: now })
      .where("id", "=", state.challengeId)
      .execute();
    await trx.updateTable("custom_domains").set({ updated_at: now }).where("id", "=", state.domainId).execute();
    return id;
  });
}

/** How long a claim may sit never looked up before the daily job arms its verification. */
export const UNARMED_CLAIM_GRACE_MS = 10 * 60_000;

/**
 * Verified domains whose certificate expires before `before`, verified domains whose challenge
 * waits, and claims (ids) pending verification that were never looked up although created before
 * `unarmedBefore` (ctrl-api could not reach Restate when they were added).
 */
export async function findRenewalWork(
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

/**
 * Key rotation: re-wraps up to `limit` stored secrets (certificate keys, then ACME account keys)
 * whose data key is wrapped by a master key other than the vault's primary. Each row is updated
 * only if it still holds the blob that was read (a renewal writing a fresh key meanwhile wins).
 * Returns how many rows were re-wrapped; call until it returns 0. The secrets themselves are never
 * decrypted, only their data keys.
 */
export async function rewrapSecrets(db: Db, vault: Vault, limit = 100): Promise<number> {
  const current = `${escapeLike(`v1.${vault.primaryKeyId}.`)}%`;
  let done = 0;
  const certs = await db
    .selectFrom("certificates")
    .select(["id", "encrypted_private_key"])
    .where("encrypted_private_key", "not like", current)
    .limit(limit)
    .execute();
  for (const row of certs) {
    const res = await db
      .updateTable("certificates")
      .set({ encrypted_private_key: vault.rewrap(row.encrypted_private_key) })
      .where("id", "=", row.id)
      .where("encrypted_private_key", "=", row.encrypted_private_key)
      .executeTakeFirst();
    done += Number(res.numUpdatedRows);
  }
  const accounts = await db
    .selectFrom("acme_users")
    .select(["id", "encrypted_key"])
    .where("encrypted_key", "not like", current)
    .limit(Math.max(0, limit - certs.length))
    .execute();
  for (const row of accounts) {
    const res = await db
      .updateTable("acme_users")
      .set({ encrypted_key: vault.rewrap(row.encrypted_key) })
      .where("id", "=", row.id)
      .where("encrypted_key", "=", row.encrypted_key)
      .executeTakeFirst();
    done += Number(res.numUpdatedRows);
  }
  return done;
}
