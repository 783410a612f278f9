import type { Insertable, Selectable } from "kysely";

export type ChallengeStatus = "waiting" | "pending" | "verified" | "failed";

/** The ACME challenge of a custom domain; `authorization` is the HTTP-01 key authorization. */
export interface AcmeChallengesTable {
  id: string;
  workspace_id: string;
  domain_id: string;
  token: string | null;
  authorization: string | null;
  type: "http-01" | "dns-01";
  status: ChallengeStatus;
  error_message: string | null;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
}
export type AcmeChallenge = Selectable<AcmeChallengesTable>;
export type NewAcmeChallenge = Insertable<AcmeChallengesTable>;
