/**
 * Environment variables end to end: values stored encrypted per (environment, key), ctrl-api
 * re-encrypts the environment's map for each deployment, the real agent decrypts it and the real
 * instance (examples/hello) sees it. Guarantees: the instance gets its variables; reserved names
 * (PORT, CTRL_*) do not override the agent's; values never appear in GetDeployment, agent logs or
 * the wire bytes; what travels is encrypted with the agent region's own key (VAULT_REGION_KEYS), so
 * an agent of another region, or one without a key, fails the deploy with env_decrypt_failed.
 */
import { createClient, type Client } from "@connectrpc/connect";
import { stackTransport, startTestStack, type TestStack } from "@ctrl/ctrl-api/testing";
import { upsertEnvironmentVariable } from "@ctrl/db";
import { DeploymentService, DeploymentStatus } from "@ctrl/proto";
import { waitFor } from "@ctrl/testing";
import { parseRegionKeys, Vault, vaultContext } from "@ctrl/vault";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClusterClient } from "@ctrl/krane/cluster-client";
import { getJson, helloDir, pushArtifact, startAgent, stopAgentsAndInstances, type AgentProcess } from "@ctrl/krane/testing";

const secret = `s3cr3t-${randomBytes(6).toString("hex")}`;
/** ctrl-api's storage key (VAULT_MASTER_KEYS): no agent holds it. */
const vault = Vault.fromSpec(`k1:${randomBytes(32).toString("base64")}`);
/** The agent keys of regions local and eu (VAULT_REGION_KEYS); each agent gets only its own. */
const localAgentKeys = `k1:${randomBytes(32).toString("base64")}`;
const euAgentKeys = `k1:${randomBytes(32).toString("base64")}`;
const localAgentVault = Vault.fromSpec(localAgentKeys);
const portBase = 45_000 + (process.pid % 100) * 50;

let stack: TestStack;
let deployments: Client<typeof DeploymentService>;
let hello: string;
const agents: AgentProcess[] = [];
const dataDirs: string[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  // What main.ts builds from VAULT_MASTER_KEYS and VAULT_REGION_KEYS.
  stack.deps.vault = vault;
  stack.deps.regionVaults = parseRegionKeys(`local=${localAgentKeys};eu=${euAgentKeys}`);
  deployments = createClient(DeploymentService, stackTransport(stack));
  hello = await pushArtifact(stack.storage, helloDir, "hello");
  // production runs in "local" (the key-holding agent), preview in "eu" (an agent without the key).
  await stack.database.db
    .updateTable("environments")
    .set({ regions: JSON.stringify(["eu"]) })
    .where("id", "=", stack.seed.environments.preview)
    .execute();
  for (const environmentId of [stack.seed.environments.production, stack.seed.environments.preview]) {
    const vars = {
      SECRET_GREETING: secret,
      OTHER: "two words",
      HELLO_ECHO_ENV: "SECRET_GREETING,OTHER,PORT,CTRL_REGION",
      PORT: "1",
      CTRL_REGION: "evil",
    };
    for (const [key, value] of Object.entries(vars)) {
      await upsertEnvironmentVariable(stack.database.db, {
        workspaceId: stack.seed.workspaceId,
        environmentId,
        key,
        encryptedValue: vault.encrypt(value, vaultContext.environmentVariable(environmentId, key)),
        now: Date.now(),
      });
    }
  }
}, 180_000);

afterAll(async () => {
  await stopAgentsAndInstances(agents, dataDirs);
  await stack?.close();
});

async function agent(region: string, offset: number, env: Record<string, string>): Promise<AgentProcess> {
  const dir = await mkdtemp(join(tmpdir(), `krane-env-${region}-`));
  dataDirs.push(dir);
  const ports = { low: portBase + offset, high: portBase + offset + 19 };
  const token = await stack.agentToken(region, { ports });
  const a = await startAgent({
    apiUrl: stack.apiUrl,
    token,
    region,
    dataDir: dir,
    portRange: `${ports.low}-${ports.high}`,
    s3: stack.s3,
    env,
  });
  agents.push(a);
  return a;
}

async function deploy(environmentSlug: string): Promise<string> {
  const res = await deployments.createDeployment({
    projectId: stack.seed.projectId,
    branch: "main",
    environmentSlug,
    source: { case: "dockerImage", value: hello },
  });
  return res.deploymentId;
}

async function waitStatus(id: string, status: DeploymentStatus) {
  return waitFor(
    `deployment ${id} to be ${DeploymentStatus[status]}`,
    async () => {
      const { deployment } = await deployments.getDeployment({ deploymentId: id });
      if (deployment!.status === status) return deployment!;
      if (status !== DeploymentStatus.FAILED && deployment!.status === DeploymentStatus.FAILED)
        throw new Error(`failed: ${deployment!.errorMessage}`);
      return undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

describe("environment variables end to end", () => {
  it("the instance sees its decrypted variables; PORT and CTRL_* stay the agent's; values never leak", async () => {
    const local = await agent("local", 0, { KRANE_VAULT_MASTER_KEYS: localAgentKeys });
    const id = await deploy("production");
    const d = await waitStatus(id, DeploymentStatus.READY);
    const rows = await stack.database.db.selectFrom("instances").selectAll().where("deployment_id", "=", id).execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(await getJson(row.address, "/env?name=SECRET_GREETING")).toEqual({ name: "SECRET_GREETING", value: secret });
      expect(await getJson(row.address, "/env?name=OTHER")).toEqual({ name: "OTHER", value: "two words" });
      // Reserved names win: the assigned port (the one the instance is reached on) and the agent's region.
      const port = row.address.split(":").pop();
      expect(port).not.toBe("1");
      expect(await getJson(row.address, "/env?name=PORT")).toEqual({ name: "PORT", value: port });
      expect(await getJson(row.address, "/env?name=CTRL_REGION")).toEqual({ name: "CTRL_REGION", value: "local" });
      // Not on the allow-list: the example refuses to echo it.
      expect((await fetch(`http://${row.address}/env?name=PATH`)).status).toBe(403);
    }
    // GetDeployment shows the keys, never the values.
    expect(d.environmentVariables).toEqual({
      CTRL_REGION: "[redacted]",
      HELLO_ECHO_ENV: "[redacted]",
      OTHER: "[redacted]",
      PORT: "[redacted]",
      SECRET_GREETING: "[redacted]",
    });
    expect(JSON.stringify(d.environmentVariables)).not.toContain(secret);
    // The agent logged the dropped reserved names, and no value.
    await waitFor("the dropped-names warning", () =>
      local.lines.some((l) => l.msg === "ignoring reserved environment variable names (the agent sets them)"),
    );
    expect(local.lines.find((l) => l.msg === "ignoring reserved environment variable names (the agent sets them)")).toMatchObject({
      dropped: ["CTRL_REGION", "PORT"],
    });
    expect(JSON.stringify(local.lines)).not.toContain(secret);
    // The agent's desired-spec file holds the decrypted values: owner-only.
    const specDir = join(dataDirs[0]!, "workloads", "deployment");
    for (const f of await readdir(specDir)) expect((await stat(join(specDir, f))).mode & 0o077).toBe(0);
    // What travels to agents is ciphertext bound to the deployment, not the plaintext.
    const desired = await createClusterClient(stack.apiUrl, local.token, "local").getDesiredDeploymentState({ deploymentId: id });
    expect(desired.state.case).toBe("apply");
    const bytes = desired.state.case === "apply" ? desired.state.value.encryptedEnvironmentVariables : new Uint8Array();
    expect(Buffer.from(bytes).toString()).not.toContain(secret);
    expect(JSON.parse(localAgentVault.decryptString(Buffer.from(bytes).toString(), vaultContext.deploymentEnv(id)))).toMatchObject({
      SECRET_GREETING: secret,
    });
    expect(() => localAgentVault.decryptString(Buffer.from(bytes).toString(), vaultContext.deploymentEnv("d_other"))).toThrow();
    // Not under the storage key: an agent never needs ctrl-api's VAULT_MASTER_KEYS.
    expect(() => vault.decryptString(Buffer.from(bytes).toString(), vaultContext.deploymentEnv(id))).toThrow();
  });

  it("an agent of region eu holding region local's key cannot decrypt eu's variables: env_decrypt_failed", async () => {
    await agent("eu", 20, { KRANE_VAULT_MASTER_KEYS: localAgentKeys });
    const id = await deploy("preview");
    const d = await waitStatus(id, DeploymentStatus.FAILED);
    expect(d.errorMessage).toMatch(/env_decrypt_failed: .*KRANE_VAULT_MASTER_KEYS/);
    expect(d.errorMessage).not.toContain(secret);
  });
});
