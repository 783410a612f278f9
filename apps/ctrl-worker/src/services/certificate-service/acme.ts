import * as acme from "acme-client";
import { Agent } from "node:https";
import { rootCertificates } from "node:tls";

/**
 * ACME glue around acme-client. Every function here runs inside one `ctx.run` step and takes only
 * ids and public data as input; private keys are decrypted from the database inside the step and
 * never returned (the Restate journal stores step results).
 */

/** An ACME error response (RFC 8555 problem document) or an HTTP failure of the ACME server. */
export class AcmeProblemError extends Error {
  override name = "AcmeProblemError";
  constructor(
    readonly status: number,
    readonly type: string | undefined,
    readonly detail: string,
    /** Seconds from a `Retry-After` header, when present. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(`ACME ${status}${type ? ` ${type.replace("urn:ietf:params:acme:error:", "")}` : ""}: ${detail}`);
  }
}

/** How a failure of an ACME step is treated by the workflow. */
export type AcmeFailureClass = { kind: "rate_limited"; retryAfterMs: number } | { kind: "transient" } | { kind: "failed"; reason: string };

/** Default wait when a rate limit comes without a usable `Retry-After`. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;
/** Never sleep longer than this for one Retry-After (a misbehaving server could say a year). */
export const MAX_RATE_LIMIT_WAIT_MS = 3 * 60 * 60_000;

/**
 * Parses a Retry-After header value (seconds or an HTTP date) into milliseconds from `now`.
 * Undefined for a missing or unparseable value.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Classifies an error thrown by an ACME call: rate limits (429 or `rateLimited`) become a durable
 * wait of `Retry-After`; server errors, bad nonces and network failures are transient (retried);
 * any other problem document (unauthorized, rejectedIdentifier, connection refused at the
 * challenge, …) fails the challenge with its detail.
 */
export function classifyAcmeError(err: unknown): AcmeFailureClass {
  if (err instanceof AcmeProblemError) {
    if (err.status === 429 || err.type === "urn:ietf:params:acme:error:rateLimited") {
      const ms = err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : DEFAULT_RATE_LIMIT_WAIT_MS;
      return { kind: "rate_limited", retryAfterMs: Math.min(Math.max(ms, 1000), MAX_RATE_LIMIT_WAIT_MS) };
    }
    if (err.status >= 500 || err.type === "urn:ietf:params:acme:error:badNonce" || err.type === "urn:ietf:params:acme:error:serverInternal")
      return { kind: "transient" };
    return { kind: "failed", reason: err.message };
  }
  // Network errors (ECONNREFUSED, ETIMEDOUT, …) and anything unexpected: retried by the step.
  return { kind: "transient" };
}

let configuredCa: string | undefined | null = null;

/**
 * Configures acme-client's HTTP client once per process: trust `caPem` in addition to the system
 * roots (instead of overriding NODE_EXTRA_CA_CERTS), no in-process retries (Restate retries and
 * sleeps durably instead), and every error response surfaced as an {@link AcmeProblemError} that
 * keeps its status, problem type and Retry-After.
 */
export function configureAcmeHttp(caPem: string | undefined): void {
  if (configuredCa !== null) {
    if (configuredCa !== caPem) throw new Error("acme-client is process-global: one CA bundle per process");
    return;
  }
  configuredCa = caPem;
  const axios = acme.axios;
  if (caPem) axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, caPem], keepAlive: true });
  (axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings.retryMaxAttempts = 0;
  axios.interceptors.response.use((response) => {
    const status = response.status;
    const data = response.data as { type?: string; detail?: string } | undefined;
    // acme-client retries bad nonces itself with the fresh nonce of this response: let it through.
    if (status < 400 || data?.type === "urn:ietf:params:acme:error:badNonce") return response;
    const header = response.headers["retry-after"] as string | undefined;
    const ms = parseRetryAfter(header, Date.now());
    throw new AcmeProblemError(status, data?.type, data?.detail ?? `HTTP ${status}`, ms === undefined ? undefined : Math.ceil(ms / 1000));
  });
}

/** An ACME client for an account whose key is already decrypted (inside a step only). */
export function acmeClient(directoryUrl: string, accountKeyPem: string, accountUrl?: string): acme.Client {
  // acme-client polls pending items in-process; keep that short so a step stays short, and let the
  // workflow retry the step when the CA is still busy.
  return new acme.Client({ directoryUrl, accountKey: accountKeyPem, accountUrl, backoffAttempts: 8, backoffMin: 250, backoffMax: 3_000 });
}

/** A new ECDSA P-256 private key in PEM (account and certificate keys). */
export async function newPrivateKeyPem(): Promise<string> {
  return (await acme.crypto.createPrivateEcdsaKey("P-256")).toString("utf8");
}

/** The order identifiers for a custom domain (a wildcard is its own identifier). */
export function orderIdentifiers(domain: string) {
  return [{ type: "dns" as const, value: domain }];
}

/** The DNS-01 record name for a domain (`*.example.com` → `_acme-challenge.example.com`). */
export function dnsChallengeRecordName(domain: string): string {
  return `_acme-challenge.${domain.replace(/^\*\./, "")}`;
}

/** Waits (briefly, in-process) for an item to be valid; distinguishes "still busy" from "invalid". */
export async function waitValid<T extends { url: string }>(client: acme.Client, item: T): Promise<T> {
  try {
    return await client.waitForValidStatus(item);
  } catch (err) {
    if (err instanceof AcmeProblemError) throw err;
    const message = (err as Error).message;
    // Still pending/processing after the in-process backoff: transient, the step retries.
    if (message === "Operation is pending or processing") throw err;
    // acme-client throws the problem detail of an invalid item as a plain Error.
    throw new AcmeProblemError(400, "urn:ietf:params:acme:error:invalid", message, undefined);
  }
}

/** Expiry (ms) of the first certificate in a PEM chain. */
export function certificateNotAfter(chainPem: string): number {
  return acme.crypto.readCertificateInfo(chainPem).notAfter.getTime();
}

export { acme };
