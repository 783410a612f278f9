import type { Insertable, Selectable } from "kysely";

export type SentinelDesiredState = "running" | "standby" | "archived";
export type SentinelHealth = "unknown" | "healthy" | "unhealthy" | "paused";

/** The per-environment, per-region proxy; `version` orders it in the region's sync stream. */
export interface SentinelsTable {
  id: string;
  workspace_id: string;
  project_id: string;
  environment_id: string;
  region: string;
  k8s_name: string;
  image: string;
  desired_replicas: number;
  desired_state: SentinelDesiredState;
  cpu_millicores: number;
  memory_mib: number;
  health: SentinelHealth;
  available_replicas: number;
  /** The image the reported replicas run (from the agent's report). */
  running_image: string | null;
  /** JSON array of host:port of ready replicas (from the agent's report). */
  addresses: string | null;
  version: number;
  created_at: number;
  updated_at: number;
}
export type Sentinel = Selectable<SentinelsTable>;
export type NewSentinel = Insertable<SentinelsTable>;
