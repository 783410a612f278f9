import type { Vault } from "@ctrl/vault";
import type { DnsProvider } from "./dns/provider.js";

/** What CertificateService needs besides the database (built in main.ts or a test). */
export interface CertificateDeps {
  vault: Vault;
  /** ACME directory URL, e.g. Let's Encrypt's or a local Pebble's. */
  directoryUrl: string;
  /** Contact address of the ACME accounts. */
  email: string;
  /** Extra CA certificates (PEM) to trust for the ACME server, in addition to the system roots. */
  caPem?: string;
  /** Publishes DNS-01 TXT records (wildcard domains). */
  dns: DnsProvider;
  /** Renew certificates expiring within this window (default 30 days). */
  renewWindowMs?: number;
  /** How long after a run the next renewal run is scheduled (default one day). */
  renewIntervalMs?: number;
}

/** Defaults of {@link CertificateDeps}. */
export const DAY_MS = 86_400_000;
export const DEFAULT_RENEW_WINDOW_MS = 30 * DAY_MS;
