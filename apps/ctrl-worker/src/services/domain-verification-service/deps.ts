/** Tunables of DomainVerificationService (config.ts `DNS_RESOLVER`, `DOMAIN_VERIFICATION_*`). */
export interface DomainVerificationDeps {
  /** DNS servers (`ip` or `ip:port`) the TXT lookups ask; empty or undefined: the system's resolvers. */
  resolvers?: string[];
  /** Time limit of one DNS query attempt. */
  lookupTimeoutMs?: number;
  /** How long after `arm` the record is looked for before the claim fails. */
  windowMs?: number;
  /** First delay between two checks; it doubles up to {@link maxRecheckMs}. */
  firstRecheckMs?: number;
  maxRecheckMs?: number;
}

/** Defaults: look for a week, first recheck after 5 s, then at most every 10 minutes. */
export const defaultDomainVerification = {
  lookupTimeoutMs: 5_000,
  windowMs: 7 * 86_400_000,
  firstRecheckMs: 5_000,
  maxRecheckMs: 600_000,
} satisfies Required<Omit<DomainVerificationDeps, "resolvers">>;
