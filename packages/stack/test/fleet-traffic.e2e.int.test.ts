/**
 * A fleet rollout under traffic (issue 12): hello deployed to the preview environment (one
 * sentinel replica) and production (three), 20 concurrent clients through frontline to each while a
 * fleet rollout replaces every sentinel with a new image. Real processes throughout: the krane
 * agent running the packed sentinel artifacts and hello, frontline, ctrl-api and the worker.
 * Guarantees: zero failed requests; afterwards every sentinel reports the new image on its own
 * health endpoint and traffic flows through the new sentinels (their request counters move).
 */
import { createClient, type Client } from "@connectrpc/connect";
import { formatArtifactRef, packDirectory, uploadArtifact } from "@ctrl/artifact";
import { stackTransport, startTestStack, type TestStack } from "@ctrl/ctrl-api/testing";
import { createEndpoint, type WorkerEndpoint } from "@ctrl/ctrl-worker/endpoint";
import { stopRecordedInstances } from "@ctrl/krane/testing";
import { DeploymentService, DeploymentStatus, SentinelRolloutService } from "@ctrl/proto";
import { packSentinelArtifact } from "@ctrl/sentinel/pack";
import { registerDeployment, startProcess, waitFor, type ManagedProcess } from "@ctrl/testing";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { pino } from "pino";
import { Agent, request } from "undici";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFrontlineProcess, type FrontlineProcess } from "@ctrl/frontline/testing";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const client = new Agent({ connections: 64 });

let stack: TestStack;
let worker: WorkerEndpoint;
let agent: ManagedProcess;
let agentDir: string;
let helloDir: string;
let frontline: FrontlineProcess;
let deployments: Client<typeof DeploymentService>;
let fleet: Client<typeof SentinelRolloutService>;
let images: { v1: string; v2: string; hello: string };

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

async function deployHello(environmentSlug: string): Promise<{ id: string; host: string }> {
  const { deploymentId } = await deployments.createDeployment({
    projectId: stack.seed.projectId,
    branch: "main",
    environmentSlug,
    source: { case: "dockerImage", value: images.hello },
  });
  const d = await waitFor(
    `deployment ${deploymentId} ready`,
    async () => {
      const { deployment } = await deployments.getDeployment({ deploymentId });
      if (deployment!.status === DeploymentStatus.FAILED) throw new Error(`deploy failed: ${deployment!.errorMessage}`);
      return deployment!.status === DeploymentStatus.READY ? deployment! : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
  const host = d.hostnames.find((h) => h.includes(`-${environmentSlug}-`));
  if (!host) throw new Error(`no ${environmentSlug} hostname in ${d.hostnames.join(", ")}`);
  return { id: deploymentId, host };
}

/** Health of each sentinel replica of the environment, from the replicas themselves. */
async function sentinelHealth(environmentId: string): Promise<Array<{ image: string; requests: number }>> {
  const row = await stack.database.db
    .selectFrom("sentinels")
    .select("addresses")
    .where("environment_id", "=", environmentId)
    .executeTakeFirst();
  const out: Array<{ image: string; requests: number }> = [];
  for (const address of row?.addresses ? (JSON.parse(row.addresses) as string[]) : []) {
    try {
      const res = await request(`http://${address}/_ctrl/health`, { dispatcher: client });
      out.push((await res.body.json()) as { image: string; requests: number });
    } catch {
      /* being replaced */
    }
  }
  return out;
}

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  helloDir = await mkdtemp(join(tmpdir(), "ctrl-fleet-hello-"));
  const [v1, v2, hello] = await Promise.all([
    packSentinelArtifact(stack.storage, "traffic-v1"),
    packSentinelArtifact(stack.storage, "traffic-v2"),
    (async () => {
      const out = join(helloDir, "hello.tar.gz");
      const { sha256 } = await packDirectory(join(repoRoot, "examples/hello"), out);
      return formatArtifactRef(await uploadArtifact(stack.storage, `artifacts/hello/${sha256}.tar.gz`, out));
    })(),
  ]);
  images = { v1, v2, hello };
  worker = createEndpoint(
    {
      db: stack.database.db,
      storage: stack.storage,
      logger: pino({ level: "silent" }),
      settings: { sentinelImage: v1, readinessPollMs: 200, readinessTimeoutMs: 60_000, sentinelDeployTimeoutMs: 60_000 },
    },
    { identityKeys: stack.restate.identityKeys },
  );
  await registerDeployment(stack.restate.adminUrl, `http://127.0.0.1:${await worker.listen(0, "127.0.0.1")}`);
  agentDir = await mkdtemp(join(tmpdir(), "ctrl-fleet-traffic-krane-"));
  const portBase = 36_000 + (process.pid % 100) * 40;
  agent = startProcess("krane", process.execPath, ["--import", tsxLoader, join(repoRoot, "apps/krane/src/main.ts")], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/root",
      KRANE_CONTROL_PLANE_URL: stack.apiUrl,
      KRANE_TOKEN: await stack.agentToken("local", { ports: { low: portBase, high: portBase + 39 } }),
      KRANE_REGION: "local",
      KRANE_DATA_DIR: agentDir,
      KRANE_PORT_RANGE: `${portBase}-${portBase + 39}`,
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
    FRONTLINE_UPSTREAM_PORT_RANGE: `${portBase}-${portBase + 39}`,
    LOG_LEVEL: "warn",
  });
  deployments = createClient(DeploymentService, stackTransport(stack));
  fleet = createClient(SentinelRolloutService, stackTransport(stack));
}, 180_000);

afterAll(async () => {
  await frontline?.process.stop();
  await agent?.kill();
  if (agentDir) await stopRecordedInstances(agentDir);
  if (agentDir) await rm(agentDir, { recursive: true, force: true });
  if (helloDir) await rm(helloDir, { recursive: true, force: true });
  await worker?.close(500);
  await stack?.close();
  await client.close();
}, 60_000);

it("replaces every sentinel under 20 concurrent clients per environment with zero failed requests", async () => {
  const envs = [
    { slug: "preview", id: stack.seed.environments.preview, replicas: 1 },
    { slug: "production", id: stack.seed.environments.production, replicas: 3 },
  ];
  const served = await Promise.all(
    envs.map(async (e) => {
      const d = await deployHello(e.slug);
      return { ...e, deploymentId: d.id, host: d.host };
    }),
  );
  for (const e of served) {
    await waitFor(
      `${e.slug} sentinels healthy on v1`,
      async () => {
        const h = await sentinelHealth(e.id);
        if (h.length === e.replicas && h.every((s) => s.image === images.v1)) return true;
        throw new Error(`health ${JSON.stringify(h)}`);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    // Frontline routes through the sentinel once it has seen the healthy row.
    await waitFor(
      `${e.slug} traffic through its sentinel`,
      async () => {
        const before = (await sentinelHealth(e.id)).reduce((n, s) => n + s.requests, 0);
        for (let i = 0; i < 5; i++) expect((await through(e.host)).deploymentId).toBe(e.deploymentId);
        return (await sentinelHealth(e.id)).reduce((n, s) => n + s.requests, 0) >= before + 5;
      },
      { timeoutMs: 10_000 },
    );
  }

  let stop = false;
  const failures: string[] = [];
  let ok = 0;
  const clients = served.flatMap((e) =>
    Array.from({ length: 20 }, async () => {
      while (!stop) {
        try {
          const r = await through(e.host);
          if (r.status !== 200 || r.deploymentId !== e.deploymentId) failures.push(`${e.slug}: ${r.status} ${r.body.slice(0, 200)}`);
          else ok++;
        } catch (err) {
          failures.push(`${e.slug}: ${String(err)}`);
        }
      }
    }),
  );
  try {
    await waitFor("clients running", () => ok > 200, { timeoutMs: 10_000, intervalMs: 10 });
    const { rollout } = await fleet.rollout({ image: images.v2, wavePercentages: [50, 100] });
    expect(rollout!.total).toBe(2);
    await waitFor(
      "the rollout to complete",
      async () => {
        const r = (await fleet.getRollout({})).rollout!;
        if (r.state === "paused")
          throw new Error(`paused: ${r.targets.map((t) => `${t.sentinelId} ${t.outcome} ${t.reason} ${t.message}`).join("; ")}`);
        return r.state === "completed";
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    for (const e of served) {
      await waitFor(
        `${e.slug} sentinels on v2 carrying traffic`,
        async () => {
          const before = await sentinelHealth(e.id);
          if (before.length !== e.replicas || !before.every((s) => s.image === images.v2)) return false;
          // The clients keep going: the next read of the new replicas' counters must be higher.
          const n = before.reduce((a, s) => a + s.requests, 0);
          const after = await sentinelHealth(e.id);
          return after.length === e.replicas && after.reduce((a, s) => a + s.requests, 0) > n;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    }
  } finally {
    stop = true;
    await Promise.all(clients);
  }
  expect(failures.slice(0, 10)).toEqual([]);
  expect(ok).toBeGreaterThan(500);
}, 300_000);
