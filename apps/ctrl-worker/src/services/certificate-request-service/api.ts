import type { createCertificateRequestService } from "./service.js";

/**
 * Contract of `CertificateRequestService` (Restate service, unkeyed): the public door to
 * certificate issuance. `CertificateService` itself is ingress-private (its `renewExpiring` and
 * `processChallenge` trust their key and input); this service checks the request first and then
 * sends the call on from inside Restate. ctrl-api starts issuance after inserting a custom domain:
 *
 *   rs.serviceSendClient<CertificateRequestServiceApi>({ name: certificateRequestServiceName }).issue({ domain })
 *
 * arms ownership verification of a claim (`verifyDomain`, sent on to the ingress-private
 * `DomainVerificationService`), and every worker replica starts the day's renewal run on start
 * (`startRenewal`, idempotent).
 */
export { certificateRequestServiceName } from "../../contract.js";

/** Typed client: `rs.serviceClient<CertificateRequestServiceApi>({ name: certificateRequestServiceName })`. */
export type CertificateRequestServiceApi = ReturnType<typeof createCertificateRequestService>;

/** Input of `issue`. */
export interface IssueCertificateRequest {
  /** A custom domain that exists (`custom_domains.domain`), e.g. `app.example.com` or `*.example.com`. */
  domain: string;
}

/** Input of `startRenewal`. */
export interface StartRenewalRequest {
  /** Day number (Unix ms / 86 400 000) of the run; must be today or tomorrow by the worker's clock. */
  day: number;
}

/** Input of `verifyDomain`. */
export interface VerifyDomainRequest {
  /** A custom domain claim that exists (`custom_domains.id`, `dom_…`). */
  claimId: string;
}

/** What was started. */
export interface CertificateRequestResult {
  /** The key the call was sent to: the domain, `"global"` for the renewal job, or a claim id. */
  key: string;
  handler: "processChallenge" | "renewExpiring" | "arm";
}
