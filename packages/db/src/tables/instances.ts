import type { Insertable, Selectable } from "kysely";

export type InstanceStatus = "pending" | "running" | "failed";

/** Actual state of one running instance, as reported by the region's agent. */
export interface InstancesTable {
  id: string;
  workspace_id: string;
  project_id: string;
  deployment_id: string;
  region: string;
  k8s_name: string;
  address: string;
  cpu_millicores: number;
  memory_mib: number;
  status: InstanceStatus;
  exit_code: number | null;
  halt_intent: string | null;
  /** The structured intent read from the app's status path, as JSON (migration 0012). */
  halt_detail?: string | null;
  failure_reason: string | null;
  created_at: number;
  updated_at: number;
}
export type Instance = Selectable<InstancesTable>;
export type NewInstance = Insertable<InstancesTable>;
