import type { Insertable, Selectable } from "kysely";

/**
 * Ownership of a custom domain: `pending_verification` until the TXT record is seen, `verified` once
 * this claim won the name, `failed` when the check gave up or another workspace verified it first.
 */
export type DomainVerificationStatus = "pending_verification" | "verified" | "failed";

/** A domain a user attached to a project environment (a claim until verified). */
export interface CustomDomainsTable {
  id: string;
  workspace_id: string;
  project_id: string;
  environment_id: string;
  domain: string;
  challenge_type: "http-01" | "dns-01";
  verification_status: DomainVerificationStatus;
  /** The TXT value the owner publishes at `_ctrl-challenge.<domain>` (random per claim). */
  verification_value: string;
  /** Why the claim is not verified yet (what the last lookup saw), or why it failed. */
  verification_error: string | null;
  /** When the TXT record was last looked up (ms). */
  verification_checked_at: number | null;
  verified_at: number | null;
  /** `domain` once verified, else null: unique, so at most one claim per name is verified. */
  verified_domain: string | null;
  created_at: number;
  updated_at: number;
}
export type CustomDomain = Selectable<CustomDomainsTable>;
export type NewCustomDomain = Insertable<CustomDomainsTable>;
