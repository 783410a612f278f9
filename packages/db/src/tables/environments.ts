import type { Insertable, Selectable } from "kysely";

/** An environment of a project (`production`, `preview`, …). */
export interface EnvironmentsTable {
  id: string;
  workspace_id: string;
  project_id: string;
  slug: string;
  /** JSON array of regions overriding the worker's default regions, or null. */
  regions: string | null;
  /** The rollout policy spec (JSON), or null for the default (0011). */
  rollout_policy: string | null;
  /** Settings new deployments get; null = the platform default (0013). */
  replicas: number | null;
  cpu_millicores: number | null;
  memory_mib: number | null;
  health_check_path: string | null;
  created_at: number;
  updated_at: number;
}
export type Environment = Selectable<EnvironmentsTable>;
export type NewEnvironment = Insertable<EnvironmentsTable>;
