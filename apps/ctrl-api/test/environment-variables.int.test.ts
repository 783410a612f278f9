/**
 * Environment variables in ctrl-api: stored values are bound to (environment, key); what goes to
 * agents is one blob per deployment bound to the deployment id and encrypted with the agent
 * region's own key (VAULT_REGION_KEYS), never the storage key; another region's agent key does not
 * decrypt it; no key / a tampered row never sends plaintext. Real MariaDB; the vault is the real one.
 */
import { listEnvironmentVariables, upsertEnvironmentVariable } from "@ctrl/db";
import { parseRegionKeys, Vault, VaultError, vaultContext } from "@ctrl/vault";
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentEnvBytes } from "../src/services/cluster-service/deployment-env.js";
import { startTestStack, type TestStack } from "./harness.js";

const vault = Vault.fromSpec(`k1:${randomBytes(32).toString("base64")}`);
// Same key id in both regions on purpose: only the key material tells them apart.
const localAgentSpec = `k1:${randomBytes(32).toString("base64")}`;
const euAgentSpec = `k1:${randomBytes(32).toString("base64")}`;
const regionVaults = parseRegionKeys(`local=${localAgentSpec};eu-1=${euAgentSpec}`);
/** What the local region's agent holds (its KRANE_VAULT_MASTER_KEYS). */
const localAgent = Vault.fromSpec(localAgentSpec);
const euAgent = Vault.fromSpec(euAgentSpec);
const logger = pino({ level: "silent" });
let stack: TestStack;
let envId: string;

async function put(environmentId: string, key: string, value: string): Promise<void> {
  await upsertEnvironmentVariable(stack.database.db, {
    workspaceId: stack.seed.workspaceId,
    environmentId,
    key,
    encryptedValue: vault.encrypt(value, vaultContext.environmentVariable(environmentId, key)),
    now: Date.now(),
  });
}
const text = (b: Uint8Array) => Buffer.from(b).toString("utf8");

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  envId = stack.seed.environments.production;
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe("environment variables", () => {
  it("an environment without variables sends empty bytes, with or without a vault", async () => {
    expect(await deploymentEnvBytes({ db: stack.database.db, vault, regionVaults, logger }, envId, "d_1", "local")).toHaveLength(0);
    expect(await deploymentEnvBytes({ db: stack.database.db, regionVaults, logger }, envId, "d_1", "local")).toHaveLength(0);
  });

  it("upsert replaces the value of an existing key (one row per environment and key)", async () => {
    await put(envId, "API_URL", "https://old.example");
    await put(envId, "API_URL", "https://new.example");
    await put(envId, "SECRET", "hunter2");
    const rows = await listEnvironmentVariables(stack.database.db, envId);
    expect(rows.map((r) => r.key)).toEqual(["API_URL", "SECRET"]);
    expect(vault.decryptString(rows[0]!.encrypted_value, vaultContext.environmentVariable(envId, "API_URL"))).toBe("https://new.example");
    expect(rows[1]!.encrypted_value).not.toContain("hunter2");
  });

  it("sends one blob bound to the deployment: the map decrypts for it and for no other deployment", async () => {
    const bytes = await deploymentEnvBytes({ db: stack.database.db, vault, regionVaults, logger }, envId, "d_1", "local");
    expect(text(bytes)).not.toContain("hunter2");
    expect(JSON.parse(localAgent.decryptString(text(bytes), vaultContext.deploymentEnv("d_1")))).toEqual({
      API_URL: "https://new.example",
      SECRET: "hunter2",
    });
    expect(() => localAgent.decryptString(text(bytes), vaultContext.deploymentEnv("d_2"))).toThrow(VaultError);
    // Other environments' variables are not included.
    await put(stack.seed.environments.preview, "ONLY_PREVIEW", "p");
    expect(
      Object.keys(
        JSON.parse(
          localAgent.decryptString(
            text(await deploymentEnvBytes({ db: stack.database.db, vault, regionVaults, logger }, envId, "d_1", "local")),
            vaultContext.deploymentEnv("d_1"),
          ),
        ),
      ),
    ).toEqual(["API_URL", "SECRET"]);
  });

  it("encrypts each region's copy with that region's agent key: region A's agent cannot decrypt region B's, nor does the storage key travel", async () => {
    const forEu = text(await deploymentEnvBytes({ db: stack.database.db, vault, regionVaults, logger }, envId, "d_1", "eu-1"));
    expect(JSON.parse(euAgent.decryptString(forEu, vaultContext.deploymentEnv("d_1")))).toMatchObject({ SECRET: "hunter2" });
    expect(() => localAgent.decryptString(forEu, vaultContext.deploymentEnv("d_1"))).toThrow(VaultError);
    expect(() => vault.decryptString(forEu, vaultContext.deploymentEnv("d_1"))).toThrow(VaultError);
    const forLocal = text(await deploymentEnvBytes({ db: stack.database.db, vault, regionVaults, logger }, envId, "d_1", "local"));
    expect(() => euAgent.decryptString(forLocal, vaultContext.deploymentEnv("d_1"))).toThrow(VaultError);
    // A region without an agent key gets the undecryptable marker, never a blob under another key.
    const noKey = text(await deploymentEnvBytes({ db: stack.database.db, vault, regionVaults, logger }, envId, "d_1", "us-9"));
    expect(noKey).not.toContain("hunter2");
    for (const v of [vault, localAgent, euAgent]) expect(() => v.decrypt(noKey, vaultContext.deploymentEnv("d_1"))).toThrow(VaultError);
  });

  it("without a vault, or with a value copied from another row, sends an undecryptable marker and no plaintext", async () => {
    const noVault = await deploymentEnvBytes({ db: stack.database.db, regionVaults, logger }, envId, "d_1", "local");
    expect(noVault.length).toBeGreaterThan(0);
    expect(() => localAgent.decrypt(text(noVault), vaultContext.deploymentEnv("d_1"))).toThrow(VaultError);
    // A blob moved to another key's row does not decrypt there (context binding).
    const secretRow = (await listEnvironmentVariables(stack.database.db, envId)).find((r) => r.key === "SECRET")!;
    await stack.database.db
      .updateTable("environment_variables")
      .set({ encrypted_value: secretRow.encrypted_value })
      .where("environment_id", "=", envId)
      .where("key", "=", "API_URL")
      .execute();
    const tampered = await deploymentEnvBytes({ db: stack.database.db, vault, regionVaults, logger }, envId, "d_1", "local");
    expect(text(tampered)).not.toContain("hunter2");
    expect(() => localAgent.decrypt(text(tampered), vaultContext.deploymentEnv("d_1"))).toThrow(VaultError);
  });
});
