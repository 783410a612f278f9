import type { Generated, Insertable, Selectable } from "kysely";

/** A deployable application; `live_deployment_id` is what production's live routes serve. */
export interface ProjectsTable {
  id: string;
  workspace_id: string;
  name: string;
  slug: string;
  default_branch: Generated<string>;
  live_deployment_id: string | null;
  /** Pinned by a rollback: later deploys do not take the live/environment routes until a promote. */
  is_rolled_back: Generated<number | boolean>;
  created_at: number;
  updated_at: number;
}
export type Project = Selectable<ProjectsTable>;
export type NewProject = Insertable<ProjectsTable>;
