import { listVariablesOfDeployment, type Db } from "@ctrl/db";
import { vaultContext, type Vault } from "@ctrl/vault";
import type { Logger } from "pino";

/**
 * Marker sent when the environment has variables but ctrl-api cannot decrypt them (no
 * VAULT_MASTER_KEYS, a value under an unknown key) or has no key for the agent's region (no entry in
 * VAULT_REGION_KEYS): not a vault ciphertext, so the agent fails the deploy with
 * `env_decrypt_failed` instead of starting it without its variables.
 */
const undecryptable = new TextEncoder().encode("ctrl-api: environment variables could not be decrypted");

/** What {@link deploymentEnvBytes} reads. */
export interface DeploymentEnvDeps {
  db: Db;
  /** Decrypts the stored variables (VAULT_MASTER_KEYS); never sent to an agent. */
  vault?: Vault;
  /** Per-region agent keys (VAULT_REGION_KEYS): a region's ApplyDeployment environment is encrypted with its own. */
  regionVaults?: ReadonlyMap<string, Vault>;
  logger: Logger;
}

/**
 * `ApplyDeployment.encrypted_environment_variables` for one deployment in one region: the
 * deployment's snapshot of its environment's variables (taken when it was created, so a rollback or
 * restart runs its own configuration; the environment's current values for a deployment older than
 * snapshots) decrypted with the storage key (each is bound to its environment and key)
 * and re-encrypted with **the region's** agent key as one JSON map `{KEY: value}` bound to
 * `vaultContext.deploymentEnv(deploymentId)`, as the UTF-8 bytes of the vault blob. An agent holds
 * only its region's key, so another region's blob does not decrypt there. No variables → empty
 * bytes. Values are never logged, only keys and ids.
 */
export async function deploymentEnvBytes(
  deps: DeploymentEnvDeps,
  environmentId: string,
  deploymentId: string,
  region: string,
): Promise<Uint8Array> {
  const rows = await listVariablesOfDeployment(deps.db, deploymentId, environmentId);
  if (rows.length === 0) return new Uint8Array();
  if (!deps.vault) {
    deps.logger.error(
      { environmentId, deploymentId, keys: rows.map((r) => r.key) },
      "environment has variables but VAULT_MASTER_KEYS is not set: the deploy will fail with env_decrypt_failed",
    );
    return undecryptable;
  }
  const regionVault = deps.regionVaults?.get(region);
  if (!regionVault) {
    deps.logger.error(
      { environmentId, deploymentId, region },
      `environment has variables but VAULT_REGION_KEYS has no key for region ${region}: the deploy will fail there with env_decrypt_failed`,
    );
    return undecryptable;
  }
  const env: Record<string, string> = {};
  for (const row of rows) {
    try {
      env[row.key] = deps.vault.decryptString(row.encrypted_value, vaultContext.environmentVariable(environmentId, row.key));
    } catch (err) {
      deps.logger.error(
        { environmentId, deploymentId, key: row.key, err: (err as Error).message },
        "cannot decrypt an environment variable: the deploy will fail with env_decrypt_failed",
      );
      return undecryptable;
    }
  }
  return new TextEncoder().encode(regionVault.encrypt(JSON.stringify(env), vaultContext.deploymentEnv(deploymentId)));
}
