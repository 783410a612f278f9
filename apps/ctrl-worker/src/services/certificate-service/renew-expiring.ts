import { listCertificateRenewalWork } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import type { WorkerDeps } from "../../deps.js";
import { certificateServiceName, type CertificateServiceApi, type RenewExpiringRequest, type RenewExpiringResult } from "./api.js";
import { DAY_MS, DEFAULT_RENEW_WINDOW_MS, type CertificateDeps } from "./deps.js";
import { domainVerificationServiceName, type DomainVerificationServiceApi } from "../domain-verification-service/api.js";
import { rewrapSecrets, UNARMED_CLAIM_GRACE_MS } from "./store.js";

/**
 * `CertificateService.renewExpiring` (key = `"global"`): the daily renewal job. Starts
 * `processChallenge({renew: true})` for every certificate expiring within the window and
 * `processChallenge({})` for every verified domain whose challenge is still `waiting`, arms the
 * verification of claims that were never looked up (`DomainVerificationService.arm`), then
 * schedules itself for the next day with a delayed send. It also re-wraps secrets still under an older vault master key (rotation).
 * Idempotent per day: the last day that ran is kept in the object's state, so a
 * second kick-off for the same day (another replica starting, a manual call) does nothing and the
 * chain of delayed sends never forks.
 */
export async function renewExpiring(
  deps: WorkerDeps,
  certs: CertificateDeps | undefined,
  ctx: restate.ObjectContext,
  input: RenewExpiringRequest = {},
): Promise<RenewExpiringResult> {
  const now = await ctx.date.now();
  const day = input.day ?? Math.floor(now / DAY_MS);
  const lastDay = (await ctx.get<number>("lastRunDay")) ?? -1;
  if (day <= lastDay) return { day, skipped: true, renewals: [], waiting: [] };
  ctx.set("lastRunDay", day);
  if (!certs) {
    ctx.console.warn({ day }, "certificates are not configured; renewal job stops here");
    return { day, skipped: true, renewals: [], waiting: [] };
  }

  const windowMs = certs.renewWindowMs ?? DEFAULT_RENEW_WINDOW_MS;
  const work = await ctx.run("find renewal work", () => listCertificateRenewalWork(deps.db, now + windowMs, now - UNARMED_CLAIM_GRACE_MS));
  const definition = { name: certificateServiceName } as CertificateServiceApi;
  for (const domain of work.expiring) ctx.objectSendClient(definition, domain).processChallenge({ renew: true });
  for (const domain of work.waiting) ctx.objectSendClient(definition, domain).processChallenge({});
  // Claims whose verification never started: look for their TXT record now.
  for (const claimId of work.unarmed)
    ctx.objectSendClient({ name: domainVerificationServiceName } as DomainVerificationServiceApi, claimId).arm({});

  // Key rotation rides along: secrets still wrapped by an older master key move to the primary one.
  let rewrapped = 0;
  for (let batch = 0; ; batch++) {
    const n = await ctx.run(`rewrap secrets ${batch}`, () => rewrapSecrets(deps.db, certs.vault, 100));
    rewrapped += n;
    if (n === 0 || batch >= 100) break;
  }

  const intervalMs = certs.renewIntervalMs ?? DAY_MS;
  ctx.objectSendClient(definition, ctx.key).renewExpiring({ day: day + 1 }, restate.rpc.sendOpts({ delay: intervalMs }));
  ctx.console.info({ day, renewals: work.expiring.length, waiting: work.waiting.length, rewrapped }, "renewal run done");
  return {
    day,
    skipped: false,
    renewals: work.expiring,
    waiting: work.waiting,
    verificationsArmed: work.unarmed,
    rewrapped,
    nextRunAt: now + intervalMs,
  };
}
