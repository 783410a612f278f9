/**
 * Environment variables in ctrl-api: stored values are bound to (environment, key); what goes to
 * agents is one blob per deployment bound to the deployment id; no key / a tampered row never sends
 * plaintext. Real MariaDB; the vault is the real one.
 */
import { listEnvironmentVariables, upsertEnvironmentVariable } from "@ctrl/db";
import { Vault, VaultError, vaultContext } from "@ctrl/vault";
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentEnvBytes } from "../src/services/cluster/deployment-env.js";
import { startTestStack, type TestStack } from "./harness.js";

const vault = Vault.fromSpec(`k1:${randomBytes(32).toString("base64")}`);
const logger = pino({ level: "silent" });
let stack: TestStack;
let envId: string;

async function put(environmentId: string, key: string, value: string): Promise<void> {
  await upsertEnvironmentVariable(stack.database.db, { workspaceId: stack.seed.workspaceId, environmentId, key, encryptedValue: vault.encrypt(value, vaultContext.environmentVariable(environmentId, key)), now: Date.now() });
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
    expect(await deploymentEnvBytes({ db: stack.database.db, vault, logger }, envId, "d_1")).toHaveLength(0);
    expect(await deploymentEnvBytes({ db: stack.database.db, logger }, envId, "d_1")).toHaveLength(0);
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
    const bytes = await deploymentEnvBytes({ db: stack.database.db, vault, logger }, envId, "d_1");
    expect(text(bytes)).not.toContain("hunter2");
    expect(JSON.parse(vault.decryptString(text(bytes), vaultContext.deploymentEnv("d_1")))).toEqual({ API_URL: "https://new.example", SECRET: "hunter2" });
    expect(() => vault.decryptString(text(bytes), vaultContext.deploymentEnv("d_2"))).toThrow(VaultError);
    // Other environments' variables are not included.
    await put(stack.seed.environments.preview, "ONLY_PREVIEW", "p");
    expect(Object.keys(JSON.parse(vault.decryptString(text(await deploymentEnvBytes({ db: stack.database.db, vault, logger }, envId, "d_1")), vaultContext.deploymentEnv("d_1"))))).toEqual(["API_URL", "SECRET"]);
  });

  it("without a vault, or with a value copied from another row, sends an undecryptable marker and no plaintext", async () => {
    const noVault = await deploymentEnvBytes({ db: stack.database.db, logger }, envId, "d_1");
    expect(noVault.length).toBeGreaterThan(0);
    expect(() => vault.decrypt(text(noVault), vaultContext.deploymentEnv("d_1"))).toThrow(VaultError);
    // A blob moved to another key's row does not decrypt there (context binding).
    const secretRow = (await listEnvironmentVariables(stack.database.db, envId)).find((r) => r.key === "SECRET")!;
    await stack.database.db.updateTable("environment_variables").set({ encrypted_value: secretRow.encrypted_value }).where("environment_id", "=", envId).where("key", "=", "API_URL").execute();
    const tampered = await deploymentEnvBytes({ db: stack.database.db, vault, logger }, envId, "d_1");
    expect(text(tampered)).not.toContain("hunter2");
    expect(() => vault.decrypt(text(tampered), vaultContext.deploymentEnv("d_1"))).toThrow(VaultError);
  });
});
