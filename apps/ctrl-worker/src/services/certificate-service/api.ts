import type { createCertificateService } from "./service.js";

/**
 * Contract of `CertificateService` (Restate virtual object). Key = the custom domain
 * (`app.example.com`, `*.example.com`) for `processChallenge`; key = `"global"` for `renewExpiring`.
 *
 * Ingress-private: callers inside Restate use it directly; ctrl-api and the worker's start-up go
 * through `CertificateRequestService` (services/certificate-requests), which checks the request and
 * sends `processChallenge` / `renewExpiring` on:
 *
 *   ctx.objectSendClient<CertificateServiceApi>({ name: certificateServiceName }, domain).processChallenge({})
 *
 * A failed domain is retried by calling `processChallenge` again. `renewExpiring` reschedules
 * itself daily; calling it again for a day that already ran is a no-op.
 */
export { certificateServiceName } from "../../contract.js";

/** The key of the renewal job. */
export const renewalKey = "global";

/** Typed client: `rs.objectClient<CertificateServiceApi>({ name: certificateServiceName }, key)`. */
export type CertificateServiceApi = ReturnType<typeof createCertificateService>;

/** Input of `processChallenge`. */
export interface ProcessChallengeRequest {
  /** Issue even though a certificate exists (renewal). */
  renew?: boolean;
}

/** Outcome of `processChallenge`: business failures are a result (and the challenge row), not an error. */
export interface ProcessChallengeResult {
  domain: string;
  status: "verified" | "failed" | "skipped";
  certificateId?: string;
  expiresAt?: number;
  /** The step that failed (`order`, `challenge`, `validation`, `finalize`, …). */
  failedStep?: string;
  errorMessage?: string;
}

/** Input of `renewExpiring`. */
export interface RenewExpiringRequest {
  /** Day number (Unix ms / 86 400 000) this run is for; defaults to today. One run per day. */
  day?: number;
}

/** Outcome of `renewExpiring`. */
export interface RenewExpiringResult {
  day: number;
  skipped: boolean;
  renewals: string[];
  waiting: string[];
  /** Claim ids whose ownership verification had never started and was armed by this run. */
  verificationsArmed?: string[];
  /** Secrets re-wrapped to the vault's primary master key (key rotation). */
  rewrapped?: number;
  nextRunAt?: number;
}
