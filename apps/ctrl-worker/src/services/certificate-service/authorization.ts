import { vaultContext } from "@ctrl/vault";
import { storeHttpChallenge, type Db, type DomainCertificateState } from "@ctrl/db";
import { acme, AcmeProblemError, dnsChallengeRecordName, waitValid } from "./acme.js";
import type { CertificateDeps } from "./deps.js";
import { clientForAccount } from "./store.js";

export interface PreparedAuthorization {
  status: "valid" | "pending";
  challengeUrl?: string;
  challengeType?: "http-01" | "dns-01";
  dnsRecord?: { name: string; value: string };
}

/**
 * Body of step `challenge <i>`: reads the authorization and, unless it is valid already, publishes
 * the answer to the challenge type of the domain (HTTP-01 token in MySQL, or a DNS-01 TXT record).
 */
export async function prepareAuthorization(
  db: Db,
  certs: CertificateDeps,
  state: DomainCertificateState,
  domain: string,
  accountId: string,
  orderUrl: string,
  authzUrl: string,
): Promise<PreparedAuthorization> {
  const client = await clientForAccount(db, certs.vault, accountId);
  const [current] = await client.getAuthorizations({ url: orderUrl, authorizations: [authzUrl] } as acme.Order);
  if (!current) throw new Error(`authorization ${authzUrl} not found`);
  if (current.status === "valid") return { status: "valid" };
  const wanted = state.challengeType;
  const challenge = current.challenges.find((c) => c.type === wanted);
  if (!challenge)
    throw new AcmeProblemError(400, undefined, `the CA offers no ${wanted} challenge for ${current.identifier.value}`, undefined);
  const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
  const stepNow = Date.now();
  if (wanted === "http-01") {
    const expires = current.expires ? Date.parse(current.expires) : null;
    await storeHttpChallenge(db, state.challengeId, (challenge as { token: string }).token, keyAuthorization, expires, stepNow);
    return { status: "pending", challengeUrl: challenge.url, challengeType: wanted };
  }
  const name = dnsChallengeRecordName(domain);
  await certs.dns.setTxt(name, keyAuthorization);
  return { status: "pending", challengeUrl: challenge.url, challengeType: wanted, dnsRecord: { name, value: keyAuthorization } };
}

/** Body of step `validation <i>`: tells the CA the challenge is ready (once) and waits for the outcome. */
export async function validateAuthorization(
  db: Db,
  certs: CertificateDeps,
  accountId: string,
  orderUrl: string,
  authzUrl: string,
  challengeUrl: string | undefined,
): Promise<void> {
  const client = await clientForAccount(db, certs.vault, accountId);
  const [authz] = await client.getAuthorizations({ url: orderUrl, authorizations: [authzUrl] } as acme.Order);
  const live = authz?.challenges.find((c) => c.url === challengeUrl);
  if (!authz || !live) throw new Error(`challenge ${challengeUrl} not found`);
  if (authz.status === "valid" || live.status === "valid") return;
  if (live.status === "invalid" || authz.status === "invalid") {
    const detail =
      (live as { error?: { detail?: string } }).error?.detail ?? `authorization for ${authz.identifier.value} is ${authz.status}`;
    throw new AcmeProblemError(400, "urn:ietf:params:acme:error:invalid", detail, undefined);
  }
  // Tell the CA we are ready only while the challenge is still pending (a retried step may find
  // it processing already), then wait for the outcome.
  if (live.status === "pending") await client.completeChallenge(live);
  await waitValid(client, { url: live.url });
}

/** Body of step `finalize`: finalizes a ready order with a CSR of the (journaled, encrypted) key and returns the chain. */
export async function finalizeOrder(
  db: Db,
  certs: CertificateDeps,
  domain: string,
  accountId: string,
  orderUrl: string,
  encryptedKey: string,
): Promise<string> {
  const client = await clientForAccount(db, certs.vault, accountId);
  let current = await client.getOrder({ url: orderUrl } as acme.Order);
  if (current.status === "invalid") throw new AcmeProblemError(400, undefined, `order ${orderUrl} is invalid`, undefined);
  if (current.status === "ready") {
    const keyPem = certs.vault.decryptString(encryptedKey, vaultContext.certificateKey(domain));
    const [, csr] = await acme.crypto.createCsr({ commonName: domain, altNames: [domain] }, keyPem);
    current = await client.finalizeOrder(current, csr);
  }
  if (current.status !== "valid") current = await waitValid(client, current);
  return client.getCertificate(current);
}
