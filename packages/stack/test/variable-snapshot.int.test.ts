/**
 * Per-deployment variable snapshots end to end (issue 15): ctrl-api, the worker, a real krane agent
 * and real instances of examples/hello. Guarantees: a variable change reaches only deployments
 * created after it; an old deployment that is stopped and started again (new instances) runs with
 * the values it was created with; a rollback to it routes the environment back to the deployment
 * that serves the old value.
 */
import { createClient, type Client } from "@connectrpc/connect";
import { stackTransport, startTestStack, type TestStack } from "@ctrl/ctrl-api/testing";
import { DeploymentLifecycleService, DeploymentService, DeploymentStatus, VariableService } from "@ctrl/proto";
import { waitFor } from "@ctrl/testing";
import { parseRegionKeys, Vault } from "@ctrl/vault";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, helloDir, pushArtifact, startAgent, stopAgentsAndInstances, type AgentProcess } from "@ctrl/krane/testing";

const agentKeys = `k1:${randomBytes(32).toString("base64")}`;
const portBase = 46_000 + (process.pid % 100) * 20;

let stack: TestStack;
let deployments: Client<typeof DeploymentService>;
let variables: Client<typeof VariableService>;
let lifecycle: Client<typeof DeploymentLifecycleService>;
let hello: string;
const agents: AgentProcess[] = [];
const dataDirs: string[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  stack.deps.vault = Vault.fromSpec(`k1:${randomBytes(32).toString("base64")}`);
  stack.deps.regionVaults = parseRegionKeys(`local=${agentKeys}`);
  const transport = stackTransport(stack);
  deployments = createClient(DeploymentService, transport);
  variables = createClient(VariableService, transport);
  lifecycle = createClient(DeploymentLifecycleService, transport);
  hello = await pushArtifact(stack.storage, helloDir, "hello");
  const dir = await mkdtemp(join(tmpdir(), "krane-snapshot-"));
  dataDirs.push(dir);
  const ports = { low: portBase, high: portBase + 19 };
  agents.push(
    await startAgent({
      apiUrl: stack.apiUrl,
      token: await stack.agentToken("local", { ports }),
      region: "local",
      dataDir: dir,
      portRange: `${ports.low}-${ports.high}`,
      s3: stack.s3,
      env: { KRANE_VAULT_MASTER_KEYS: agentKeys },
    }),
  );
}, 180_000);

afterAll(async () => {
  await stopAgentsAndInstances(agents, dataDirs);
  await stack?.close();
});

async function setGreeting(value: string) {
  await variables.setVariables({
    projectId: stack.seed.projectId,
    environmentSlug: "production",
    variables: [
      { key: "GREETING", value },
      { key: "HELLO_ECHO_ENV", value: "GREETING" },
    ],
  });
}

async function deployReady(): Promise<string> {
  const { deploymentId } = await deployments.createDeployment({
    projectId: stack.seed.projectId,
    branch: "main",
    environmentSlug: "production",
    source: { case: "dockerImage", value: hello },
  });
  await waitFor(
    `deployment ${deploymentId} to be ready`,
    async () => {
      const { deployment } = await deployments.getDeployment({ deploymentId });
      if (deployment!.status === DeploymentStatus.FAILED) throw new Error(`failed: ${deployment!.errorMessage}`);
      return deployment!.status === DeploymentStatus.READY;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  return deploymentId;
}

/** What each running instance of the deployment answers for GREETING (at least one instance). */
async function greetings(deploymentId: string): Promise<string[]> {
  const rows = await waitFor(`running instances of ${deploymentId}`, async () => {
    const r = await stack.database.db
      .selectFrom("instances")
      .select("address")
      .where("deployment_id", "=", deploymentId)
      .where("status", "=", "running")
      .execute();
    return r.length > 0 ? r : undefined;
  });
  return Promise.all(rows.map(async (r) => ((await getJson(r.address, "/env?name=GREETING")) as { value: string }).value));
}

describe("variable snapshots end to end", () => {
  it("an old deployment keeps its values across a variable change, a stop/start and a rollback", async () => {
    await setGreeting("old");
    const v1 = await deployReady();
    expect(await greetings(v1)).toEqual(["old"]);

    await setGreeting("new");
    const v2 = await deployReady();
    expect(await greetings(v2)).toEqual(["new"]);
    // Still running v1 was not touched by the change.
    expect(await greetings(v1)).toEqual(["old"]);

    // A restart of v1 (standby, then running: new instances) runs its own snapshot.
    const before = (await stack.database.db.selectFrom("instances").select("id").where("deployment_id", "=", v1).execute()).map(
      (r) => r.id,
    );
    await lifecycle.stopDeployment({ deploymentId: v1 });
    await waitFor(
      "v1's instances to stop",
      async () => {
        const running = await stack.database.db
          .selectFrom("instances")
          .select("id")
          .where("deployment_id", "=", v1)
          .where("status", "=", "running")
          .execute();
        return running.length === 0;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await lifecycle.startDeployment({ deploymentId: v1 });
    const restarted = await waitFor(
      "v1 to run new instances",
      async () => {
        const r = await stack.database.db
          .selectFrom("instances")
          .select(["id", "address"])
          .where("deployment_id", "=", v1)
          .where("status", "=", "running")
          .execute();
        const fresh = r.filter((i) => !before.includes(i.id));
        return fresh.length > 0 ? fresh : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    for (const i of restarted) expect(await getJson(i.address, "/env?name=GREETING")).toEqual({ name: "GREETING", value: "old" });

    // A rollback routes the environment back to v1, which serves the old value.
    await deployments.rollback({ sourceDeploymentId: v2, targetDeploymentId: v1 });
    const envRoutes = await stack.database.db
      .selectFrom("frontline_routes")
      .select("deployment_id")
      .where("environment_id", "=", stack.seed.environments.production)
      .where("sticky", "in", ["environment", "live"])
      .execute();
    expect(envRoutes.length).toBeGreaterThan(0);
    expect(envRoutes.every((r) => r.deployment_id === v1)).toBe(true);
    expect(await greetings(v1)).toEqual(["old"]);
  }, 180_000);
});
