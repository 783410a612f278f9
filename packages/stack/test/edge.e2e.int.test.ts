/**
 * The edge end to end: real MariaDB, restate-server, s3rver, ctrl-api and the worker's workflows,
 * the krane agent as a real process running `examples/hello` and the packed sentinel artifact as
 * real processes, and frontline as a real process. Everything is observed through frontline, never
 * by reading the database. Guarantees: a deploy's commit, branch and environment domains answer
 * through frontline; a second version takes the environment domain; Rollback serves the first again
 * once it returns, with 20 concurrent clients seeing no failed request; Promote serves the second; a
 * SIGKILLed sentinel is restarted by the agent and traffic resumes through it. How fast a rollback
 * is served is a figure of `pnpm bench rollback-latency` and `pnpm bench edge-proxy`, not asserted.
 */
import { createClient, type Client } from "@connectrpc/connect";
import { formatArtifactRef, packDirectory, uploadArtifact } from "@ctrl/artifact";
import { stackTransport, startTestStack, type TestStack } from "@ctrl/ctrl-api/testing";
import { createEndpoint, type WorkerEndpoint } from "@ctrl/ctrl-worker/endpoint";
import { DeploymentService, DeploymentStatus } from "@ctrl/proto";
import { packSentinelArtifact } from "@ctrl/sentinel/pack";
import { registerDeployment, startProcess, waitFor, type ManagedProcess } from "@ctrl/testing";
import { mkdtemp, rm } from "node:fs/promises";
import { hostPidOf, stopRecordedInstances } from "@ctrl/krane/testing";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { pino } from "pino";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFrontlineProcess, type FrontlineProcess } from "@ctrl/frontline/testing";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const client = new Agent({ connections: 64 });

let stack: TestStack;
let worker: WorkerEndpoint;
let agent: ManagedProcess;
let agentDir: string;
let helloDir: string | undefined;
let frontline: FrontlineProcess;
let deployments: Client<typeof DeploymentService>;
let helloImage: string;
let first: { id: string; hostnames: string[] };
let second: { id: string; hostnames: string[] };

/** GET / through frontline for `host`; hello answers with the deployment that served it. */
async function through(host: string): Promise<{ status: number; deploymentId?: string; body: string }> {
  const res = await request(`${frontline.url}/`, { dispatcher: client, headers: { host } });
  const body = await res.body.text();
  let deploymentId: string | undefined;
  try {
    deploymentId = (JSON.parse(body) as { deploymentId?: string }).deploymentId;
  } catch {
    /* not hello's JSON */
  }
  return { status: res.statusCode, body, ...(deploymentId ? { deploymentId } : {}) };
}

async function deployHello(): Promise<{ id: string; hostnames: string[] }> {
  const { deploymentId } = await deployments.createDeployment({
    projectId: stack.seed.projectId,
    branch: "main",
    environmentSlug: "production",
    source: { case: "dockerImage", value: helloImage },
  });
  const deployment = await waitFor(
    `deployment ${deploymentId} ready`,
    async () => {
      const { deployment } = await deployments.getDeployment({ deploymentId });
      if (deployment!.status === DeploymentStatus.FAILED) throw new Error(`deploy failed: ${deployment!.errorMessage}`);
      return deployment!.status === DeploymentStatus.READY ? deployment! : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
  return { id: deploymentId, hostnames: deployment.hostnames };
}

function environmentHost(hostnames: string[]): string {
  const host = hostnames.find((h) => /-production-/.test(h));
  if (!host) throw new Error(`no environment hostname in ${hostnames.join(", ")}`);
  return host;
}

/** The sentinels the agent runs for production, from their own health endpoints. */
async function sentinelHealth(): Promise<Array<{ address: string; pid: number; requests: number }>> {
  const row = await stack.database.db
    .selectFrom("sentinels")
    .select(["addresses", "health"])
    .where("environment_id", "=", stack.seed.environments.production)
    .executeTakeFirst();
  const addresses = row?.addresses ? (JSON.parse(row.addresses) as string[]) : [];
  const out: Array<{ address: string; pid: number; requests: number }> = [];
  for (const address of addresses) {
    try {
      const res = await request(`http://${address}/_ctrl/health`, { dispatcher: client });
      const health = (await res.body.json()) as { pid: number; requests: number };
      // Sandboxed sentinels report their pid in their own pid namespace: compare and kill host pids.
      out.push({ address, pid: await hostPidOf(Number(address.split(":")[1]), health.pid), requests: health.requests });
    } catch {
      /* a replica that is restarting */
    }
  }
  return out;
}

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  const [sentinelImage, hello] = await Promise.all([
    packSentinelArtifact(stack.storage),
    (async () => {
      helloDir = await mkdtemp(join(tmpdir(), "ctrl-hello-"));
      const out = join(helloDir, "hello.tar.gz");
      const { sha256 } = await packDirectory(join(repoRoot, "examples/hello"), out);
      return formatArtifactRef(await uploadArtifact(stack.storage, `artifacts/hello/${sha256}.tar.gz`, out));
    })(),
  ]);
  helloImage = hello;
  // The worker with the sentinel image configured, as the dev stack configures SENTINEL_IMAGE.
  worker = createEndpoint(
    {
      db: stack.database.db,
      storage: stack.storage,
      logger: pino({ level: "silent" }),
      settings: { sentinelImage, readinessPollMs: 200, readinessTimeoutMs: 60_000 },
    },
    { identityKeys: stack.restate.identityKeys },
  );
  const workerPort = await worker.listen(0, "127.0.0.1");
  await registerDeployment(stack.restate.adminUrl, `http://127.0.0.1:${workerPort}`);

  agentDir = await mkdtemp(join(tmpdir(), "ctrl-edge-krane-"));
  const portBase = 30_000 + (process.pid % 200) * 50;
  agent = startProcess("krane", process.execPath, ["--import", tsxLoader, join(repoRoot, "apps/krane/src/main.ts")], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/root",
      KRANE_CONTROL_PLANE_URL: stack.apiUrl,
      KRANE_TOKEN: await stack.agentToken("local", { ports: { low: portBase, high: portBase + 49 } }),
      KRANE_REGION: "local",
      KRANE_DATA_DIR: agentDir,
      KRANE_PORT_RANGE: `${portBase}-${portBase + 49}`,
      KRANE_HTTP_PORT: "0",
      KRANE_RESTART_BACKOFF_MS: "100",
      KRANE_RESTART_BACKOFF_MAX_MS: "400",
      KRANE_HEALTH_INTERVAL_MS: "50",
      KRANE_RESYNC_INTERVAL_MS: "2000",
      KRANE_STOP_GRACE_MS: "2000",
      KRANE_SENTINEL_ENV: JSON.stringify({ DATABASE_URL: stack.database.url, SENTINEL_POLL_INTERVAL_MS: "100", LOG_LEVEL: "warn" }),
      S3_ENDPOINT: stack.s3.endpoint,
      S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
      LOG_LEVEL: "info",
    },
  });
  frontline = await startFrontlineProcess({
    DATABASE_URL: stack.database.url,
    CTRL_API_URL: stack.apiUrl,
    CTRL_FRONTLINE_TOKEN: stack.frontlineToken,
    FRONTLINE_UPSTREAM_PORT_RANGE: `${portBase}-${portBase + 49}`,
    LOG_LEVEL: "warn",
  });
  deployments = createClient(DeploymentService, stackTransport(stack));
}, 180_000);

afterAll(async () => {
  await frontline?.process.stop();
  await agent?.kill();
  // The agent's instances are detached process groups; end them through its own records.
  if (agentDir) await stopRecordedInstances(agentDir);
  if (agentDir) await rm(agentDir, { recursive: true, force: true });
  if (helloDir) await rm(helloDir, { recursive: true, force: true });
  await worker?.close(500);
  await stack?.close();
  await client.close();
}, 60_000);

describe("edge end to end", () => {
  it("serves a deployed hello on its commit, branch and environment domains through frontline", async () => {
    first = await deployHello();
    expect(first.hostnames.length).toBeGreaterThanOrEqual(3);
    for (const host of first.hostnames) {
      const res = await waitFor(
        `${host} through frontline`,
        async () => {
          const r = await through(host);
          return r.status === 200 ? r : undefined;
        },
        { timeoutMs: 5_000 },
      );
      expect(res.deploymentId).toBe(first.id);
    }
    expect((await through("unknown.ctrl.localhost")).status).toBe(404);
  }, 120_000);

  it("routes through the environment's sentinels once the agent reports them healthy", async () => {
    const host = environmentHost(first.hostnames);
    await waitFor("sentinels healthy with addresses", async () => (await sentinelHealth()).length > 0, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const before = (await sentinelHealth()).reduce((n, s) => n + s.requests, 0);
    // Frontline picks the healthy sentinel row up on its next poll; until then it goes direct. Every
    // answer on the way is kept and checked after the wait (an expect inside waitFor is retried away).
    const answers: Array<string | undefined> = [];
    await waitFor(
      "requests counted by the sentinels",
      async () => {
        for (let i = 0; i < 5; i++) answers.push((await through(host)).deploymentId);
        return (await sentinelHealth()).reduce((n, s) => n + s.requests, 0) >= before + 5;
      },
      { timeoutMs: 5_000 },
    );
    expect(answers.length).toBeGreaterThanOrEqual(5);
    expect(answers.filter((id) => id !== first.id)).toEqual([]);
  }, 90_000);

  it("serves a second version, rolls back under 20 concurrent clients without a failed request, then promotes", async () => {
    const host = environmentHost(first.hostnames);
    second = await deployHello();
    await waitFor("second version served", async () => (await through(host)).deploymentId === second.id, { timeoutMs: 5_000 });

    let stop = false;
    const failures: string[] = [];
    const seen: Record<string, number> = {};
    const clients = Array.from({ length: 20 }, async () => {
      for (let n = 0; !stop && n < 20_000; n++) {
        try {
          const r = await through(host);
          if (r.status !== 200 || !r.deploymentId) failures.push(`${r.status} ${r.body.slice(0, 200)}`);
          else seen[r.deploymentId] = (seen[r.deploymentId] ?? 0) + 1;
        } catch (err) {
          failures.push(String(err));
        }
      }
    });
    try {
      await waitFor("clients running", () => (seen[second.id] ?? 0) > 50, { timeoutMs: 10_000, intervalMs: 10 });
      await deployments.rollback({ sourceDeploymentId: second.id, targetDeploymentId: first.id });
      // After Rollback returns, frontline serves the first deployment (how fast: bench rollback-latency
      // for the RPC, bench edge-proxy for commit → served; this test waits for the condition).
      const t0 = Date.now();
      const trace: string[] = [];
      await waitFor(
        "rollback served",
        async () => {
          const r = await through(host);
          trace.push(`${Date.now() - t0}ms ${r.status} ${r.deploymentId}`);
          return r.deploymentId === first.id;
        },
        { timeoutMs: 10_000, intervalMs: 10 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}; trace: ${trace.slice(-20).join(" | ")}`);
      });
      const afterRollback = seen[first.id] ?? 0;
      await waitFor("clients see the rollback", () => (seen[first.id] ?? 0) > afterRollback + 50, { timeoutMs: 10_000, intervalMs: 10 });
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    expect(failures).toEqual([]);

    await deployments.promote({ targetDeploymentId: second.id });
    await waitFor("promote served", async () => (await through(host)).deploymentId === second.id, { timeoutMs: 10_000, intervalMs: 10 });
  }, 180_000);

  it("a sentinel killed with SIGKILL is restarted by the agent and traffic resumes through it", async () => {
    const host = environmentHost(second.hostnames);
    const before = await sentinelHealth();
    expect(before.length).toBeGreaterThan(0);
    const victim = before[0]!;
    process.kill(victim.pid, "SIGKILL");
    // Requests keep succeeding meanwhile: frontline skips the dead replica (or falls back to instances).
    for (let i = 0; i < 20; i++) expect((await through(host)).status).toBe(200);
    const restarted = await waitFor(
      "the agent to restart the sentinel",
      async () => {
        const now = await sentinelHealth();
        const fresh = now.filter((s) => !before.some((b) => b.pid === s.pid));
        return now.length >= before.length && fresh.length > 0 ? fresh : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // Traffic reaches the restarted replica: round robin over the replicas includes it.
    const answers: Array<string | undefined> = [];
    await waitFor(
      "traffic through the restarted sentinel",
      async () => {
        for (let i = 0; i < 10; i++) answers.push((await through(host)).deploymentId);
        const now = await sentinelHealth();
        return now.some((s) => restarted.some((r) => r.pid === s.pid) && s.requests > 0);
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(answers.filter((id) => id !== second.id)).toEqual([]);
  }, 90_000);
});
