import type { Insertable, Selectable } from "kysely";

export type SentinelDesiredState = "running" | "standby" | "archived";
export type SentinelDeployStatus = "progressing" | "ready" | "failed";
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
  /** `SentinelService.deploy` progress: `progressing → ready | failed`; null before any deploy (0009). */
  deploy_status: SentinelDeployStatus | null;
  /** The awakeable the running deploy waits on; ctrl-api resolves it from the agent's report. */
  deploy_awakeable_id: string | null;
  /** The image that deploy waits for. */
  deploy_image: string | null;
  /** The last failure the agent reported for the desired image (`image_pull_failed: …`). */
  failure_reason: string | null;
  /** The image `failure_reason` is about. */
  failure_image: string | null;
  created_at: number;
  updated_at: number;
}
export type Sentinel = Selectable<SentinelsTable>;
export type NewSentinel = Insertable<SentinelsTable>;
