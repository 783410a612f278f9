import type { Insertable, Selectable } from "kysely";

/** An ACME account; its key is stored encrypted. */
export interface AcmeUsersTable {
  id: string;
  workspace_id: string;
  directory_url: string;
  encrypted_key: string;
  registration_uri: string | null;
  created_at: number;
}
export type AcmeUser = Selectable<AcmeUsersTable>;
export type NewAcmeUser = Insertable<AcmeUsersTable>;
