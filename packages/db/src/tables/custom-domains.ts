import type { Insertable, Selectable } from "kysely";

/** A domain a user attached to a project environment. */
export interface CustomDomainsTable {
  id: string;
  workspace_id: string;
  project_id: string;
  environment_id: string;
  domain: string;
  challenge_type: "http-01" | "dns-01";
  verification_status: "pending" | "verified" | "failed";
  created_at: number;
  updated_at: number;
}
export type CustomDomain = Selectable<CustomDomainsTable>;
export type NewCustomDomain = Insertable<CustomDomainsTable>;
