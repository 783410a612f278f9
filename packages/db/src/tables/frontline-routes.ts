import type { Insertable, Selectable } from "kysely";

export type Sticky = "none" | "branch" | "environment" | "live";

/** A hostname and the deployment it serves. */
export interface FrontlineRoutesTable {
  id: string;
  workspace_id: string;
  project_id: string;
  environment_id: string;
  deployment_id: string;
  fully_qualified_domain_name: string;
  sticky: Sticky;
  created_at: number;
  updated_at: number;
}
export type FrontlineRoute = Selectable<FrontlineRoutesTable>;
export type NewFrontlineRoute = Insertable<FrontlineRoutesTable>;
