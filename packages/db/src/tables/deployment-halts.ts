import type { Insertable, Selectable } from "kysely";

/** Halt reasons of the contract (docs/halt-contract.md), by exit code 70, 71, 72. */
export const haltReasons = ["upgrade_required", "binary_too_new", "downgrade_detected"] as const;
export type HaltReason = (typeof haltReasons)[number];

/** What the supervisor does about a reason. */
export type HaltAction = "upgrade" | "rollback" | "wait_for_human";

/**
 * Where a halt stands: `acting` while the supervisor works, `waiting_for_plan` (70 without a
 * mapping), `waiting_for_human` (72, or an action that could not be taken), `halted` (replaced or
 * rolled back: done), `acknowledged` (a person took it over with `ctrl supervise ack`).
 */
export type HaltState = "acting" | "waiting_for_plan" | "waiting_for_human" | "halted" | "acknowledged";

/** The supervisor's durable record of one halt (migration 0012), keyed by deployment + reason. */
export interface DeploymentHaltsTable {
  deployment_id: string;
  reason: HaltReason;
  workspace_id: string;
  project_id: string;
  environment_id: string;
  instance: string;
  exit_code: number | null;
  plan_name: string | null;
  height: number | null;
  info: string | null;
  action: HaltAction;
  state: HaltState;
  /** A visible condition such as `image_mapping_missing`; null when none. */
  condition: string | null;
  replaced_by_deployment_id: string | null;
  message: string | null;
  paged_at: number | null;
  resolved_at: number | null;
  created_at: number;
  updated_at: number;
}
export type DeploymentHalt = Selectable<DeploymentHaltsTable>;
export type NewDeploymentHalt = Insertable<DeploymentHaltsTable>;
