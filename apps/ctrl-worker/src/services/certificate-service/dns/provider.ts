/**
 * A DNS provider that can publish the TXT record of an ACME DNS-01 challenge. `name` is the fully
 * qualified record name without a trailing dot (`_acme-challenge.example.com`); `value` is the
 * digest acme-client computes for the challenge. Both calls must be idempotent: the certificate
 * workflow may repeat them after a crash.
 */
export interface DnsProvider {
  /** Short name for logs and errors (`challtestsrv`, `cloudflare`). */
  readonly name: string;
  /**
   * How long to wait (a durable sleep) after publishing before telling the CA to look, for
   * providers whose authoritative servers update asynchronously. 0 or undefined: no wait.
   */
  readonly propagationDelayMs?: number;
  setTxt(name: string, value: string): Promise<void>;
  clearTxt(name: string, value: string): Promise<void>;
}

/** A provider that refuses: wildcard domains need a configured DNS provider. */
export const noDnsProvider: DnsProvider = {
  name: "none",
  async setTxt(name) {
    throw new DnsProviderNotConfiguredError(`cannot publish ${name}: no DNS provider is configured (set DNS_PROVIDER)`);
  },
  async clearTxt() {},
};

/** Raised when DNS-01 is needed but no provider is configured (a configuration error, not transient). */
export class DnsProviderNotConfiguredError extends Error {
  override name = "DnsProviderNotConfiguredError";
}

/** Raised for a request the provider rejected for good (bad credentials, unknown zone): not retried. */
export class DnsProviderRejectedError extends Error {
  override name = "DnsProviderRejectedError";
}
