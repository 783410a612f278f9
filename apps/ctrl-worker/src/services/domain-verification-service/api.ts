import type { createDomainVerificationService } from "./service.js";

/**
 * Contract of `DomainVerificationService` (Restate virtual object). Key = the custom domain claim id
 * (`custom_domains.id`, `dom_…`), not the name: several workspaces may hold pending claims of one
 * name, each with its own TXT value and its own recheck schedule; which of them wins is decided by
 * the database (see `markDomainVerified` in @ctrl/db).
 *
 * ctrl-api arms verification after inserting a claim, and again on `retryCustomDomain`:
 *
 *   rs.objectSendClient<DomainVerificationServiceApi>({ name: domainVerificationServiceName }, claimId).arm({})
 *
 * Callers: ctrl-api sends `arm` through the ingress (as it sends CertificateService.processChallenge);
 * the daily renewal job sends `arm` for claims never looked up; `check` is only ever sent by the
 * service itself. Both handlers only look DNS up and compare with the stored value, so a stray call
 * can at worst verify a claim whose record really is published.
 */
export { domainVerificationServiceName } from "../../contract.js";

/** Typed client: `rs.objectClient<DomainVerificationServiceApi>({ name: domainVerificationServiceName }, claimId)`. */
export type DomainVerificationServiceApi = ReturnType<typeof createDomainVerificationService>;

/** Input of `arm`: starts (or restarts) the bounded recheck window now. */
export type ArmVerificationRequest = Record<string, never>;

/** Input of `check` (the service's own delayed sends): which arming the check belongs to. */
export interface CheckVerificationRequest {
  generation: number;
}

/** Outcome of one check. */
export interface VerificationCheckResult {
  claimId: string;
  domain?: string;
  /** `superseded`: a later `arm` started a new schedule; this check did nothing. */
  status: "pending_verification" | "verified" | "failed" | "gone" | "superseded";
  /** What the lookup saw, or why the claim failed. */
  reason?: string;
  /** When the next check runs (pending only). */
  nextCheckAt?: number;
}
