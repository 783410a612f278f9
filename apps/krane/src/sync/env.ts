import { vaultContext, type Vault } from "@ctrl/vault";

/** A name an instance environment variable may have (POSIX-ish: what shells and most runtimes accept). */
export const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names the agent sets itself (`PORT`, `CTRL_*`): a deployment's variable never overrides them. */
export function isReservedEnvName(name: string): boolean {
  return name === "PORT" || name.startsWith("CTRL_");
}

/** The outcome of decrypting a deployment's variables: the usable map and the reserved names dropped, or why it failed. */
export type EnvResult = { env: Record<string, string>; dropped: string[] } | { error: string };

/**
 * Checks a decrypted map: every name must match {@link envNamePattern} and every value be a string
 * (else the deploy fails: running without a variable is worse than not running); reserved names are
 * dropped (reserved ones win) and listed. Error messages name the variable, never its value.
 */
export function validateEnv(parsed: unknown): EnvResult {
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    return { error: "env_invalid: the environment variables are not a JSON object" };
  const env: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!envNamePattern.test(name))
      return { error: `env_invalid: variable name ${JSON.stringify(name.slice(0, 64))} must match ${envNamePattern}` };
    if (typeof value !== "string") return { error: `env_invalid: variable ${name} must have a string value` };
    if (isReservedEnvName(name)) dropped.push(name);
    else env[name] = value;
  }
  return { env, dropped };
}

/**
 * Decrypts `ApplyDeployment.encrypted_environment_variables`: the UTF-8 bytes of a vault blob of the
 * JSON map `{KEY: value}`, bound to `vaultContext.deploymentEnv(deploymentId)` (a blob for another
 * deployment does not decrypt), encrypted by ctrl-api with this region's agent key (a blob for
 * another region does not decrypt either). Empty bytes → no variables. Without a vault, or when decryption
 * fails, the result is an `env_decrypt_failed` error: the instances fail instead of running without
 * their variables.
 */
export function decryptEnv(bytes: Uint8Array, deploymentId: string, vault?: Vault): EnvResult {
  if (bytes.length === 0) return { env: {}, dropped: [] };
  if (!vault)
    return {
      error:
        "env_decrypt_failed: the deployment has encrypted environment variables but this agent has no decryption key (set KRANE_VAULT_MASTER_KEYS to this region's key from ctrl-api's VAULT_REGION_KEYS)",
    };
  let plaintext: string;
  try {
    plaintext = vault.decryptString(new TextDecoder().decode(bytes), vaultContext.deploymentEnv(deploymentId));
  } catch (err) {
    return {
      error: `env_decrypt_failed: ${(err as Error).message} (KRANE_VAULT_MASTER_KEYS must hold this region's key from ctrl-api's VAULT_REGION_KEYS; another region's key does not decrypt)`,
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext);
  } catch {
    return { error: "env_decrypt_failed: the decrypted environment variables are not JSON" };
  }
  return validateEnv(parsed);
}
