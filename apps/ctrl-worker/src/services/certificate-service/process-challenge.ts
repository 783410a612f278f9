import { findDomainCertificateState, type DomainCertificateState } from "@ctrl/db";
import { vaultContext, VaultError } from "@ctrl/vault";
import * as restate from "@restatedev/restate-sdk";
import type { WorkerDeps } from "../../deps.js";
import { terminal } from "../../errors.js";
import { certificateNotAfter, classifyAcmeError, newPrivateKeyPem, orderIdentifiers } from "./acme.js";
import { finalizeOrder, prepareAuthorization, validateAuthorization } from "./authorization.js";
import type { ProcessChallengeRequest, ProcessChallengeResult } from "./api.js";
import { DEFAULT_RENEW_WINDOW_MS, type CertificateDeps } from "./deps.js";
import { DnsProviderNotConfiguredError, DnsProviderRejectedError } from "./dns/provider.js";
import { clientForAccount, ensureAcmeAccount, setChallengeStatus, storeCertificate } from "./store.js";

/** Attempts of a transient failure (network, 5xx) of one step before the challenge is failed. */
const STEP_ATTEMPTS = 8;
/** Rate-limit waits per issuance before giving up (each one a durable sleep of Retry-After). */
const MAX_RATE_LIMIT_WAITS = 10;

/** A business failure of one step: the challenge is marked failed with `step: reason`. */
class ChallengeFailed extends Error {
  constructor(
    readonly step: string,
    readonly reason: string,
  ) {
    super(`${step}: ${reason}`);
  }
}

type StepOutcome<T> = { ok: true; value: T } | { ok: false; rateLimitedMs: number } | { ok: false; failed: string };

/**
 * Runs one ACME step as a named `ctx.run`. Inside the step, a rate limit is returned (not thrown)
 * so the workflow can sleep durably for `Retry-After` and try again; a problem the CA will not
 * change its mind about, or a configuration error, is returned as a failure; anything else is
 * thrown and retried by Restate up to {@link STEP_ATTEMPTS} times.
 */
async function acmeStep<T>(ctx: restate.ObjectContext, step: string, action: () => Promise<T>): Promise<T> {
  for (let wait = 0; ; wait++) {
    let outcome: StepOutcome<T>;
    try {
      outcome = await ctx.run(
        wait === 0 ? step : `${step} (after rate limit ${wait})`,
        async (): Promise<StepOutcome<T>> => {
          try {
            return { ok: true, value: await action() };
          } catch (err) {
            if (err instanceof VaultError || err instanceof DnsProviderNotConfiguredError || err instanceof DnsProviderRejectedError)
              return { ok: false, failed: err.message };
            const cls = classifyAcmeError(err);
            if (cls.kind === "rate_limited") return { ok: false, rateLimitedMs: cls.retryAfterMs };
            if (cls.kind === "failed") return { ok: false, failed: cls.reason };
            throw err;
          }
        },
        { maxRetryAttempts: STEP_ATTEMPTS, initialRetryInterval: 500, maxRetryInterval: 10_000 },
      );
    } catch (err) {
      // Retries exhausted: ctx.run throws a TerminalError carrying the last error's message.
      if (err instanceof restate.TerminalError) throw new ChallengeFailed(step, err.message);
      throw err;
    }
    if (outcome.ok) return outcome.value;
    if ("failed" in outcome) throw new ChallengeFailed(step, outcome.failed);
    if (wait >= MAX_RATE_LIMIT_WAITS) throw new ChallengeFailed(step, `still rate limited after ${MAX_RATE_LIMIT_WAITS} waits`);
    ctx.console.info({ domain: ctx.key, step, retryAfterMs: outcome.rateLimitedMs }, "rate limited by the ACME server; sleeping durably");
    await ctx.sleep(outcome.rateLimitedMs);
  }
}

/**
 * `CertificateService.processChallenge` (key = domain): issues (or renews) the domain's certificate
 * through ACME. HTTP-01 stores the key authorization in `acme_challenges`, where frontline serves it
 * through `AcmeService.VerifyCertificate`; DNS-01 (wildcards) publishes a TXT record through the
 * DNS provider. Each ACME interaction is one named step; the certificate's private key is generated
 * in a step that returns it already encrypted by the vault, so neither the journal nor the database
 * ever holds it in plaintext.
 */
export async function processChallenge(
  deps: WorkerDeps,
  certs: CertificateDeps | undefined,
  ctx: restate.ObjectContext,
  input: ProcessChallengeRequest = {},
): Promise<ProcessChallengeResult> {
  const domain = ctx.key;
  if (!certs) {
    const message = "certificates are not configured on this worker (set VAULT_MASTER_KEYS and ACME_DIRECTORY_URL)";
    // Say so on the domain (its challenge fails with the reason) instead of leaving it `waiting`
    // forever; RetryCustomDomain starts it again once the worker is configured.
    const known = await ctx.run("load domain", () => findDomainCertificateState(deps.db, domain));
    if (known && known.challengeStatus !== "verified") {
      const now = await ctx.date.now();
      await ctx.run("mark not configured", () => setChallengeStatus(deps.db, known, "failed", message, now));
    }
    throw terminal("failed_precondition", message);
  }
  const state = await ctx.run("load domain", () => findDomainCertificateState(deps.db, domain));
  if (!state)
    throw terminal(
      "not_found",
      `custom domain ${domain} does not exist or is not verified yet (its _ctrl-challenge TXT record was not seen)`,
    );
  const startedAt = await ctx.date.now();
  // Already issued; for a renewal, already renewed (two renewal runs can queue the same domain).
  const renewBefore = startedAt + (certs.renewWindowMs ?? DEFAULT_RENEW_WINDOW_MS);
  if (state.certificate && state.challengeStatus === "verified" && (!input.renew || state.certificate.expiresAt > renewBefore)) {
    return { domain, status: "skipped", certificateId: state.certificate.id, expiresAt: state.certificate.expiresAt };
  }
  await ctx.run("mark pending", () => setChallengeStatus(deps.db, state, "pending", null, startedAt));
  ctx.console.info({ domain, domainId: state.domainId, type: state.challengeType, renew: !!input.renew }, "certificate issuance started");

  const published: { name: string; value: string }[] = [];
  const clearRecords = async () => {
    for (const [i, record] of published.entries()) {
      // Best effort: a leftover TXT record is harmless, a stuck workflow is not.
      await ctx.run(`clear dns record ${i}`, () => certs.dns.clearTxt(record.name, record.value).catch(() => undefined));
    }
  };
  try {
    const result = await issue(deps, certs, ctx, state, published);
    await clearRecords();
    ctx.console.info({ domain, domainId: state.domainId, certificateId: result.certificateId }, "certificate issued");
    return result;
  } catch (err) {
    if (!(err instanceof ChallengeFailed)) throw err;
    await clearRecords();
    const failedAt = await ctx.date.now();
    await ctx.run("mark failed", () => setChallengeStatus(deps.db, state, "failed", err.message.slice(0, 4000), failedAt));
    ctx.console.warn({ domain, domainId: state.domainId, step: err.step, reason: err.reason }, "certificate issuance failed");
    return { domain, status: "failed", failedStep: err.step, errorMessage: err.message };
  }
}

async function issue(
  deps: WorkerDeps,
  certs: CertificateDeps,
  ctx: restate.ObjectContext,
  state: DomainCertificateState,
  published: { name: string; value: string }[],
): Promise<ProcessChallengeResult> {
  const domain = ctx.key;
  const db = deps.db;
  const now = await ctx.date.now();
  const accountId = await acmeStep(ctx, "account", () => ensureAcmeAccount(db, certs.vault, certs, state.workspaceId, now));

  const order = await acmeStep(ctx, "order", async () => {
    const client = await clientForAccount(db, certs.vault, accountId);
    const created = await client.createOrder({ identifiers: orderIdentifiers(domain) });
    return { url: created.url, authorizations: created.authorizations };
  });

  for (const [i, authzUrl] of order.authorizations.entries()) {
    const prepared = await acmeStep(ctx, `challenge ${i}`, () =>
      prepareAuthorization(db, certs, state, domain, accountId, order.url, authzUrl),
    );
    if (prepared.status === "valid") continue;
    if (prepared.dnsRecord) {
      published.push(prepared.dnsRecord);
      if (certs.dns.propagationDelayMs) await ctx.sleep(certs.dns.propagationDelayMs);
    }

    await acmeStep(ctx, `validation ${i}`, () => validateAuthorization(db, certs, accountId, order.url, authzUrl, prepared.challengeUrl));
  }

  // The key is generated in its own step and journaled only encrypted: a retried finalize reuses it,
  // so the CSR of a crashed attempt and of the retry are the same.
  const encryptedKey = await ctx.run("generate certificate key", async () =>
    certs.vault.encrypt(await newPrivateKeyPem(), vaultContext.certificateKey(domain)),
  );

  const chainPem = await acmeStep(ctx, "finalize", () => finalizeOrder(db, certs, domain, accountId, order.url, encryptedKey));

  const storedAt = await ctx.date.now();
  const expiresAt = certificateNotAfter(chainPem);
  const certificateId = await ctx.run("store certificate", () =>
    storeCertificate(db, state, domain, chainPem, encryptedKey, expiresAt, storedAt),
  );
  return { domain, status: "verified", certificateId, expiresAt };
}
