import type { Insertable, Selectable } from "kysely";

/** A root key for the public HTTP API, stored as a sha256 hash with its permissions. */
export interface ApiKeysTable {
  id: string;
  workspace_id: string;
  name: string;
  hash: string;
  start: string;
  /** JSON array of `project.<id|*>.<action|*>` strings. */
  permissions: string;
  expires_at: number | null;
  deleted_at: number | null;
  created_at: number;
}
export type ApiKey = Selectable<ApiKeysTable>;
export type NewApiKey = Insertable<ApiKeysTable>;
