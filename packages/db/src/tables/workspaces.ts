import type { Insertable, Selectable } from "kysely";

/** A tenant: owns projects and API keys. */
export interface WorkspacesTable {
  id: string;
  name: string;
  slug: string;
  created_at: number;
  updated_at: number;
}
export type Workspace = Selectable<WorkspacesTable>;
export type NewWorkspace = Insertable<WorkspacesTable>;
