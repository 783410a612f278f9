import type { Insertable, Selectable } from "kysely";

/**
 * The variables a deployment was created with (migration 0014): the environment variable's
 * ciphertext copied at creation, still bound to `vaultContext.environmentVariable(environment_id, key)`.
 */
export interface DeploymentVariablesTable {
  deployment_id: string;
  key: string;
  workspace_id: string;
  environment_id: string;
  encrypted_value: string;
  created_at: number;
}
export type DeploymentVariable = Selectable<DeploymentVariablesTable>;
export type NewDeploymentVariable = Insertable<DeploymentVariablesTable>;
