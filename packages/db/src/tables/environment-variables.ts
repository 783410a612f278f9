import type { Insertable, Selectable } from "kysely";

/** An environment variable; the value is encrypted at rest. */
export interface EnvironmentVariablesTable {
  id: string;
  workspace_id: string;
  environment_id: string;
  key: string;
  encrypted_value: string;
  created_at: number;
  updated_at: number;
}
export type EnvironmentVariable = Selectable<EnvironmentVariablesTable>;
export type NewEnvironmentVariable = Insertable<EnvironmentVariablesTable>;
