// Long because its cases share one stack with a real krane agent and sandboxed instances.
/**
 * The krane agent end to end: real ctrl-api (ClusterService), real worker DeployWorkflow on a real
 * restate-server, real MariaDB and s3rver, the agent as a real child process, instances as real
 * processes. Guarantees: a deploy by artifact reference becomes ready on its own and its instances
 * answer; scale/stop converge; failures surface with their reason; the agent survives SIGKILL
 * without duplicates and applies what changed meanwhile; a control-plane outage loses nothing;
 * regions are isolated.
 */
import { createClient, type Client } from "@connectrpc/connect";
import { stackTransport, startTestStack, type TestStack } from "@ctrl/ctrl-api/testing";
import { buildServer } from "@ctrl/ctrl-api/server";
import type { VersioningServiceApi } from "@ctrl/ctrl-worker/api";
import { DeploymentService, DeploymentStatus } from "@ctrl/proto";
import { exposeServicesForTest, freePort, waitFor, waitForPortFree } from "@ctrl/testing";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  getJson,
  helloDir,
  hostPid,
  pidAlive,
  pushArtifact,
  startAgent,
  stopAgentsAndInstances,
  type AgentProcess,
} from "@ctrl/krane/testing";

let stack: TestStack;
let api: Awaited<ReturnType<typeof buildServer>> | undefined;
let apiPort: number;
let apiUrl: string;
let deployments: Client<typeof DeploymentService>;
let hello: string;
const agents: AgentProcess[] = [];
const dataDirs: string[] = [];
const portBase = 40_000 + (process.pid % 100) * 100;

async function startApi(): Promise<void> {
  api = await buildServer(stack.deps);
  await api.listen({ port: apiPort, host: "127.0.0.1" });
}

async function stopApi(): Promise<void> {
  const closing = api!.close();
  // Watch streams are long-lived requests: cut them like a crash would.
  api!.server.closeAllConnections();
  await closing;
  api = undefined;
  await waitForPortFree(apiPort);
}

beforeAll(async () => {
  stack = await startTestStack();
  // VersioningService is ingress-private; this file scales deployments through it directly.
  await exposeServicesForTest(stack.restate.adminUrl, ["VersioningService"]);
  apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  await startApi();
  deployments = createClient(DeploymentService, stackTransport(stack));
  hello = await pushArtifact(stack.storage, helloDir, "hello");
  // preview runs in region "eu" only, production in the worker's default region "local".
  await stack.database.db
    .updateTable("environments")
    .set({ regions: JSON.stringify(["eu"]) })
    .where("id", "=", stack.seed.environments.preview)
    .execute();
}, 180_000);

afterAll(async () => {
  // Stop instances through the agents' own data: every instance state file names its process group.
  await stopAgentsAndInstances(agents, dataDirs);
  if (api) await stopApi();
  await stack?.close();
});

async function agent(region: string, dataDir?: string): Promise<AgentProcess> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), `krane-e2e-${region}-`)));
  if (!dataDirs.includes(dir)) dataDirs.push(dir);
  const offset = region === "local" ? 0 : 50;
  const ports = { low: portBase + offset, high: portBase + offset + 49 };
  const a = await startAgent({
    apiUrl,
    token: await stack.agentToken(region, { ports }),
    region,
    dataDir: dir,
    portRange: `${ports.low}-${ports.high}`,
    s3: stack.s3,
  });
  agents.push(a);
  return a;
}

async function deploy(image: string, environmentSlug = "production", command: string[] = []): Promise<string> {
  const res = await deployments.createDeployment({
    projectId: stack.seed.projectId,
    branch: "main",
    environmentSlug,
    source: { case: "dockerImage", value: image },
    command,
  });
  return res.deploymentId;
}

async function waitStatus(id: string, status: DeploymentStatus, timeoutMs = 60_000) {
  return waitFor(
    `deployment ${id} to be ${DeploymentStatus[status]}`,
    async () => {
      const { deployment } = await deployments.getDeployment({ deploymentId: id });
      if (deployment!.status === status) return deployment!;
      if (status !== DeploymentStatus.FAILED && deployment!.status === DeploymentStatus.FAILED)
        throw new Error(`failed: ${deployment!.errorMessage}`);
      return undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

function instanceRows(deploymentId: string) {
  return stack.database.db.selectFrom("instances").selectAll().where("deployment_id", "=", deploymentId).orderBy("k8s_name").execute();
}

const versioning = (region: string) => stack.deps.restate.objectClient<VersioningServiceApi>({ name: "VersioningService" }, region);

async function workspaceOf(deploymentId: string): Promise<string> {
  const row = await stack.database.db
    .selectFrom("deployments")
    .select("workspace_id")
    .where("id", "=", deploymentId)
    .executeTakeFirstOrThrow();
  return row.workspace_id;
}

/** Live processes whose environment says they are an instance of `deploymentId` (duplicates show here). */
async function processesOf(deploymentId: string): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const env = (await readFile(`/proc/${d}/environ`, "utf8")).split("\0");
      const cmd = await readFile(`/proc/${d}/cmdline`, "utf8");
      // The app itself (node server.js), not its exit-code shim.
      if (env.includes(`CTRL_DEPLOYMENT_ID=${deploymentId}`) && cmd.startsWith("node\0")) out.push(Number(d));
    } catch {
      /* raced with an exit */
    }
  }
  return out;
}

describe("krane end to end", () => {
  let local: AgentProcess;
  let readyId: string;

  it("deploys examples/hello by artifact reference: ready with no help, every instance answers", async () => {
    local = await agent("local");
    readyId = await deploy(hello);
    await waitStatus(readyId, DeploymentStatus.READY);
    const rows = await instanceRows(readyId);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row).toMatchObject({ status: "running", region: "local" });
      expect(await getJson(row.address)).toMatchObject({ message: "hello from ctrl", deploymentId: readyId, instanceId: row.k8s_name });
    }
    // The OpenAPI spec was scraped from a real instance.
    const d = await stack.database.db.selectFrom("deployments").select("openapi_spec").where("id", "=", readyId).executeTakeFirstOrThrow();
    expect(d.openapi_spec).toContain('"title":"hello"');
    // The agent's log endpoint serves the instance's output.
    const logs = await fetch(`${local.httpUrl}/logs/${rows[0]!.k8s_name}?lines=5`, { headers: { authorization: `Bearer ${local.token}` } });
    expect(logs.status).toBe(200);
    expect(await logs.text()).toContain(`hello listening on`);
    expect((await fetch(`${local.httpUrl}/logs/${rows[0]!.k8s_name}`)).status).toBe(401);
  });

  it("scales up, then a stopped topology makes the processes exit and the rows disappear", async () => {
    const ws = await workspaceOf(readyId);
    await versioning("local").commitTopology({ workspaceId: ws, deploymentId: readyId, desiredReplicas: 3, desiredStatus: "running" });
    await waitFor(
      "3 running rows",
      async () => (await instanceRows(readyId)).filter((r) => r.status === "running").length === 3 || undefined,
    );
    const pids = await processesOf(readyId);
    expect(pids).toHaveLength(3);
    await versioning("local").commitTopology({ workspaceId: ws, deploymentId: readyId, desiredReplicas: 0, desiredStatus: "stopped" });
    await waitFor("rows to disappear", async () => (await instanceRows(readyId)).length === 0);
    await waitFor("processes to exit", async () => (await Promise.all(pids.map(pidAlive))).every((alive) => !alive));
  });

  it("a crash-looping app fails the deploy with start_failed and its exit code", async () => {
    const id = await deploy(hello, "production", ["node", "-e", "console.log('boom'); process.exit(3)"]);
    const d = await waitStatus(id, DeploymentStatus.FAILED);
    // The instance's exit code and the agent's reason reach the deployment's error message.
    expect(d.errorMessage).toMatch(/with exit code 3: exited with code 3; gave up after 3 failed starts/);
    // …and so does the end of its output (issue 15: start_failed carries the last 20 lines).
    expect(d.errorMessage).toMatch(/last \d+ lines of its output:\n(boom\n)*boom$/);
    const row = await stack.database.db.selectFrom("deployments").select(["failure_reason"]).where("id", "=", id).executeTakeFirstOrThrow();
    expect(row.failure_reason).toBe("start_failed");
    // It stays failed: no process is left restarting.
    expect(await processesOf(id)).toEqual([]);
  });

  it("a digest mismatch fails the deploy with image_pull_failed", async () => {
    const wrong = hello.replace(/sha256:(.)/, (_m, c: string) => `sha256:${c === "0" ? "1" : "0"}`);
    const id = await deploy(wrong);
    const d = await waitStatus(id, DeploymentStatus.FAILED);
    expect(d.errorMessage).toMatch(/image_pull_failed: .*expected/);
    const row = await stack.database.db.selectFrom("deployments").select(["failure_reason"]).where("id", "=", id).executeTakeFirstOrThrow();
    expect(row.failure_reason).toBe("image_pull_failed");
    expect(await processesOf(id)).toEqual([]);
  });

  it("agent crash: SIGKILL, restart — instances keep serving, none duplicated, the change made meanwhile is applied", async () => {
    const id = await deploy(hello);
    await waitStatus(id, DeploymentStatus.READY);
    const before = await processesOf(id);
    const dataDir = dataDirs[0]!;
    await local.proc.kill(); // SIGKILL
    agents.splice(agents.indexOf(local), 1);
    // Still serving without an agent.
    for (const row of await instanceRows(id)) expect(await getJson(row.address)).toMatchObject({ deploymentId: id });
    // While it is down: scale to 2, and a workload the control plane never heard of appears in its
    // data dir (state left by some earlier life): resync must garbage-collect it.
    await versioning("local").commitTopology({
      workspaceId: await workspaceOf(id),
      deploymentId: id,
      desiredReplicas: 2,
      desiredStatus: "running",
    });
    const spec = JSON.parse(await readFile(join(dataDir, "workloads", "deployment", `${id}.json`), "utf8")) as Record<string, unknown>;
    await writeFile(join(dataDir, "workloads", "deployment", "d_ghost.json"), JSON.stringify({ ...spec, name: "d_ghost", id: "d_ghost" }));

    local = await agent("local", dataDir);
    await waitFor("2 running rows", async () => (await instanceRows(id)).filter((r) => r.status === "running").length === 2 || undefined, {
      timeoutMs: 30_000,
    });
    const after = await processesOf(id);
    expect(after).toHaveLength(2);
    for (const pid of before) expect(after).toContain(pid); // adopted, not restarted
    expect(local.lines.some((l) => l.msg === "instance adopted")).toBe(true);
    await waitFor("the ghost workload to be collected", async () => !(await local.status()).workloads.some((w) => w.name === "d_ghost"), {
      timeoutMs: 20_000,
    });
    await waitFor("no ghost process", async () => (await processesOf("d_ghost")).length === 0);
  });

  it("runs a sentinel from its image: healthy with addresses, standby stops it, archived removes it", async () => {
    const created = {
      workspaceId: stack.seed.workspaceId,
      projectId: stack.seed.projectId,
      environmentId: stack.seed.environments.production,
      k8sName: "sentinel-e2e",
      cpuMillicores: 100,
      memoryMib: 128,
    };
    const sentinel = () => stack.database.db.selectFrom("sentinels").selectAll().where("id", "=", "se_e2e").executeTakeFirstOrThrow();
    await versioning("local").commitSentinel({
      sentinelId: "se_e2e",
      create: created,
      image: hello,
      desiredReplicas: 2,
      desiredState: "running",
    });
    const healthy = await waitFor("sentinel healthy", async () => {
      const row = await sentinel();
      return row.health === "healthy" && row.available_replicas === 2 ? row : undefined;
    });
    expect(healthy.running_image).toBe(hello);
    const addresses = JSON.parse(healthy.addresses!) as string[];
    expect(addresses).toHaveLength(2);
    for (const a of addresses) expect(await getJson(a)).toMatchObject({ instanceId: expect.stringMatching(/^sentinel-e2e-\d$/) });
    const pids = await Promise.all(addresses.map(hostPid));

    await versioning("local").commitSentinel({ sentinelId: "se_e2e", desiredState: "standby" });
    await waitFor("sentinel paused", async () => (await sentinel()).health === "paused");
    await waitFor("sentinel processes to exit", async () => (await Promise.all(pids.map(pidAlive))).every((alive) => !alive));
    await versioning("local").commitSentinel({ sentinelId: "se_e2e", desiredState: "archived" });
    await waitFor("sentinel gone from the agent", async () => !(await local.status()).workloads.some((w) => w.name === "sentinel-e2e"));
  });

  it("control-plane outage: instances keep running, the agent reconnects, nothing lost or applied twice", async () => {
    const id = await deploy(hello);
    await waitStatus(id, DeploymentStatus.READY);
    const pids = await processesOf(id);
    await stopApi();
    // Desired state changes while ctrl-api is down (the worker and Restate still run).
    await versioning("local").commitTopology({
      workspaceId: await workspaceOf(id),
      deploymentId: id,
      desiredReplicas: 2,
      desiredStatus: "running",
    });
    for (const row of await instanceRows(id)) expect(await getJson(row.address)).toMatchObject({ deploymentId: id });
    await waitFor("the agent to notice the outage", () =>
      local.lines.some((l) => typeof l.msg === "string" && l.msg.includes("watch stream broke")),
    );
    await startApi();
    await waitFor(
      "2 running rows after the outage",
      async () => (await instanceRows(id)).filter((r) => r.status === "running").length === 2 || undefined,
      { timeoutMs: 30_000 },
    );
    const after = await processesOf(id);
    expect(after).toHaveLength(2);
    for (const pid of pids) expect(after).toContain(pid);
    // Each version was applied exactly once across the reconnects.
    // (Resync re-applies are idempotent and logged apart, with source "resync".)
    const applied = local.lines
      .filter((l) => (l.msg === "apply deployment" || l.msg === "delete deployment") && l.source === "watch")
      .map((l) => `${l.deploymentId}@${l.version}`);
    expect(applied.length).toBeGreaterThan(0);
    expect(new Set(applied).size, applied.join(", ")).toBe(applied.length);
  });

  it("two agents with different regions each run only their region's topology", async () => {
    const eu = await agent("eu");
    const previewId = await deploy(hello, "preview");
    await waitStatus(previewId, DeploymentStatus.READY);
    const rows = await instanceRows(previewId);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.region === "eu")).toBe(true);
    const euNames = (await eu.status()).workloads.map((w) => w.name);
    const localNames = (await local.status()).workloads.map((w) => w.name);
    expect(euNames).toContain(previewId);
    expect(localNames).not.toContain(previewId);
    expect(euNames.some((n) => localNames.includes(n))).toBe(false);
    // The preview instances answer from the eu agent's port range.
    for (const row of rows) {
      expect(Number(row.address.split(":")[1])).toBeGreaterThanOrEqual(portBase + 50);
      expect(await getJson(row.address)).toMatchObject({ deploymentId: previewId, region: "eu" });
    }
  });
});
