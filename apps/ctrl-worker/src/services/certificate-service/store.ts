import {
  findRegisteredAcmeAccountId,
  getAcmeAccount,
  insertAcmeAccount,
  listAcmeAccountKeysWithoutPrefix,
  listCertificateKeysWithoutPrefix,
  lockWorkspace,
  newId,
  replaceAcmeAccountKey,
  replaceCertificateKey,
  setAcmeChallengeStatus,
  touchCustomDomain,
  upsertCertificate,
  type ChallengeStatus,
  type Db,
  type DomainCertificateState,
} from "@ctrl/db";
import { vaultContext, type Vault } from "@ctrl/vault";
import { acmeClient, newPrivateKeyPem } from "./acme.js";

/**
 * Moves a challenge to `status`, recording the reason. (The domain's `verification_status` is its
 * ownership proof, DomainVerificationService's business; only `updated_at` moves here.)
 */
export async function setChallengeStatus(
  db: Db,
  state: Pick<DomainCertificateState, "challengeId" | "domainId">,
  status: ChallengeStatus,
  errorMessage: string | null,
  now: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await setAcmeChallengeStatus(trx, state.challengeId, status, errorMessage, now);
    await touchCustomDomain(trx, state.domainId, now);
  });
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
    await lockWorkspace(trx, workspaceId);
    const existing = await findRegisteredAcmeAccountId(trx, workspaceId, settings.directoryUrl);
    if (existing) return existing;
    const id = newId("acme");
    const keyPem = await newPrivateKeyPem();
    const client = acmeClient(settings.directoryUrl, keyPem);
    await client.createAccount({ termsOfServiceAgreed: true, contact: settings.email ? [`mailto:${settings.email}`] : [] });
    await insertAcmeAccount(trx, {
      id,
      workspace_id: workspaceId,
      directory_url: settings.directoryUrl,
      encrypted_key: vault.encrypt(keyPem, vaultContext.acmeAccountKey(id)),
      registration_uri: client.getAccountUrl(),
      created_at: now,
    });
    return id;
  });
}

/** An ACME client for a stored account (decrypts its key; use inside a step only). */
export async function clientForAccount(db: Db, vault: Vault, accountId: string) {
  const row = await getAcmeAccount(db, accountId);
  const keyPem = vault.decryptString(row.encrypted_key, vaultContext.acmeAccountKey(row.id));
  return acmeClient(row.directory_url, keyPem, row.registration_uri ?? undefined);
}

/**
 * Stores an issued certificate (one row per hostname: a renewal replaces the chain and key and bumps
 * `updated_at`, which is what edge certificate stores poll for) and marks the challenge verified.
 */
export async function storeCertificate(
  db: Db,
  state: Pick<DomainCertificateState, "challengeId" | "domainId" | "workspaceId">,
  hostname: string,
  chainPem: string,
  encryptedKey: string,
  expiresAt: number,
  now: number,
): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const id = await upsertCertificate(trx, {
      newId: newId("cert"),
      workspaceId: state.workspaceId,
      hostname,
      chainPem,
      encryptedKey,
      expiresAt,
      now,
    });
    await setAcmeChallengeStatus(trx, state.challengeId, "verified", null, now);
    await touchCustomDomain(trx, state.domainId, now);
    return id;
  });
}

/** How long a claim may sit never looked up before the daily job arms its verification. */
export const UNARMED_CLAIM_GRACE_MS = 10 * 60_000;

/**
 * Key rotation: re-wraps up to `limit` stored secrets (certificate keys, then ACME account keys)
 * whose data key is wrapped by a master key other than the vault's primary. Each row is updated
 * only if it still holds the blob that was read (a renewal writing a fresh key meanwhile wins).
 * Returns how many rows were re-wrapped; call until it returns 0. The secrets themselves are never
 * decrypted, only their data keys.
 */
export async function rewrapSecrets(db: Db, vault: Vault, limit = 100): Promise<number> {
  const current = `v1.${vault.primaryKeyId}.`;
  let done = 0;
  const certs = await listCertificateKeysWithoutPrefix(db, current, limit);
  for (const row of certs) {
    if (await replaceCertificateKey(db, row.id, row.encrypted_private_key, vault.rewrap(row.encrypted_private_key))) done++;
  }
  const accounts = await listAcmeAccountKeysWithoutPrefix(db, current, Math.max(0, limit - certs.length));
  for (const row of accounts) {
    if (await replaceAcmeAccountKey(db, row.id, row.encrypted_key, vault.rewrap(row.encrypted_key))) done++;
  }
  return done;
}
