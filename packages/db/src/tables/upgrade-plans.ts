import type { Insertable, Selectable } from "kysely";

/**
 * One version of an upgrade plan (migration 0012): plan name → image (and an optional minimum
 * height) for a project's environment. Append-only: the highest `version` of (project,
 * environment, name) is the plan; a row with `deleted` is a tombstone.
 */
export interface UpgradePlansTable {
  id: string;
  workspace_id: string;
  project_id: string;
  environment_id: string;
  name: string;
  version: number;
  image: string | null;
  min_height: number | null;
  deleted: number | boolean;
  created_by: string;
  created_at: number;
}
export type UpgradePlanRow = Selectable<UpgradePlansTable>;
export type NewUpgradePlanRow = Insertable<UpgradePlansTable>;
