import { listEnvironmentVariables, type Db } from "@ctrl/db";
import { vaultContext, type Vault } from "@ctrl/vault";
import type { Logger } from "pino";

/**
 * Marker sent when the environment has variables but ctrl-api cannot decrypt them (no
 * VAULT_MASTER_KEYS, or a value under an unknown key): not a vault ciphertext, so the agent fails
 * the deploy with `env_decrypt_failed` instead of starting it without its variables.
 */
const undecryptable = new TextEncoder().encode("ctrl-api: environment variables could not be decrypted");

/**
 * `ApplyDeployment.encrypted_environment_variables` for one deployment: the environment's variables
 * decrypted (each is bound to its environment and key) and re-encrypted as one JSON map
 * `{KEY: value}` bound to `vaultContext.deploymentEnv(deploymentId)`, as the UTF-8 bytes of the
 * vault blob. No variables → empty bytes. Values are never logged, only keys and ids.
 */
export async function deploymentEnvBytes(deps: { db: Db; vault?: Vault; logger: Logger }, environmentId: string, deploymentId: string): Promise<Uint8Array> {
  const rows = await listEnvironmentVariables(deps.db, environmentId);
  if (rows.length === 0) return new Uint8Array();
  if (!deps.vault) {
    deps.logger.error({ environmentId, deploymentId, keys: rows.map((r) => r.key) }, "environment has variables but VAULT_MASTER_KEYS is not set: the deploy will fail with env_decrypt_failed");
    return undecryptable;
  }
  const env: Record<string, string> = {};
  for (const row of rows) {
    try {
      env[row.key] = deps.vault.decryptString(row.encrypted_value, vaultContext.environmentVariable(environmentId, row.key));
    } catch (err) {
      deps.logger.error({ environmentId, deploymentId, key: row.key, err: (err as Error).message }, "cannot decrypt an environment variable: the deploy will fail with env_decrypt_failed");
      return undecryptable;
    }
  }
  return new TextEncoder().encode(deps.vault.encrypt(JSON.stringify(env), vaultContext.deploymentEnv(deploymentId)));
}
