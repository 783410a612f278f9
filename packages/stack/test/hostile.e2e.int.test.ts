/**
 * A hostile tenant through the real flow (issue 10): a SECOND workspace's root key uploads
 * examples/hostile as a build context over the public HTTP API; the worker's local builder runs its
 * build script in the build sandbox, the real krane agent runs the app in the instance sandbox, and
 * frontline routes to it. Guarantees: every escape the build and the app try (other processes'
 * environments, the process list, the control plane's ports, files outside their directory, system
 * directories, setuid, a fork bomb) fails, and the app still serves its own page through frontline.
 */
import { packDirectory } from "@ctrl/artifact";
import { startTestStack, type TestStack } from "@ctrl/ctrl-api/testing";
import { createEndpoint, type WorkerEndpoint } from "@ctrl/ctrl-worker/endpoint";
import { createRootKey, newId } from "@ctrl/db";
import { startAgent, stopAgentsAndInstances, type AgentProcess } from "@ctrl/krane/testing";
import { packSentinelArtifact } from "@ctrl/sentinel/pack";
import { registerDeployment, waitFor } from "@ctrl/testing";
import { chmod, cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFrontlineProcess, type FrontlineProcess } from "@ctrl/frontline/testing";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../..");
let stack: TestStack;
let worker: WorkerEndpoint;
let workerPort = 0;
let agent: AgentProcess;
let agentDir: string;
let scratch: string;
let frontline: FrontlineProcess;
let tenant: { workspaceId: string; projectId: string; rootKey: string };
const portBase = 31_000 + (process.pid % 100) * 40;

/** A second workspace with a project, its environments and a root key: the attacker's account. */
async function createTenant() {
  const db = stack.database.db;
  const now = Date.now();
  const workspaceId = newId("ws");
  const slug = workspaceId.toLowerCase().slice(3, 15);
  await db.insertInto("workspaces").values({ id: workspaceId, name: slug, slug, created_at: now, updated_at: now }).execute();
  const projectId = newId("proj");
  await db
    .insertInto("projects")
    .values({
      id: projectId,
      workspace_id: workspaceId,
      name: "hostile",
      slug: `hostile${slug.slice(0, 6)}`,
      live_deployment_id: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  for (const env of ["production", "preview"])
    await db
      .insertInto("environments")
      .values({
        id: newId("env"),
        workspace_id: workspaceId,
        project_id: projectId,
        slug: env,
        regions: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  const { key } = await createRootKey(db, { workspaceId, name: "attacker", permissions: ["project.*.*"], now });
  return { workspaceId, projectId, rootKey: key };
}

async function publicApi<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${stack.apiUrl}/v2/${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${tenant.rootKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { data?: T; error?: unknown };
  if (!res.ok || !json.data) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(json.error)}`);
  return json.data;
}

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  scratch = await mkdtemp(join(tmpdir(), "ctrl-hostile-"));
  await chmod(scratch, 0o711); // the build sandbox's uid must reach the work dir
  const sentinelImage = await packSentinelArtifact(stack.storage);
  worker = createEndpoint(
    {
      db: stack.database.db,
      storage: stack.storage,
      logger: pino({ level: "silent" }),
      settings: { sentinelImage, readinessPollMs: 200, readinessTimeoutMs: 90_000 },
      build: {
        backend: "local",
        limits: { maxCompressedBytes: 10 << 20, maxExtractedBytes: 50 << 20, maxFiles: 1000 },
        timeoutMs: 120_000,
        workDir: join(scratch, "work"),
        npmRegistry: "https://registry.npmjs.org/",
        sandboxLimits: { processes: 192 },
        ...(process.env.NODE_EXTRA_CA_CERTS ? { caFile: process.env.NODE_EXTRA_CA_CERTS } : {}),
      },
    },
    { identityKeys: stack.restate.identityKeys },
  );
  workerPort = await worker.listen(0, "127.0.0.1");
  await registerDeployment(stack.restate.adminUrl, `http://127.0.0.1:${workerPort}`);
  agentDir = await mkdtemp(join(tmpdir(), "ctrl-hostile-krane-"));
  agent = await startAgent({
    apiUrl: stack.apiUrl,
    token: await stack.agentToken("local", { ports: { low: portBase, high: portBase + 39 } }),
    region: "local",
    dataDir: agentDir,
    portRange: `${portBase}-${portBase + 39}`,
    s3: stack.s3,
    // A low process limit keeps the fork bomb's footprint small on a shared machine.
    env: {
      LOG_LEVEL: "info",
      KRANE_SANDBOX_MAX_PROCESSES: "128",
      KRANE_SENTINEL_ENV: JSON.stringify({ DATABASE_URL: stack.database.url, SENTINEL_POLL_INTERVAL_MS: "100", LOG_LEVEL: "warn" }),
    },
  });
  frontline = await startFrontlineProcess({
    DATABASE_URL: stack.database.url,
    CTRL_API_URL: stack.apiUrl,
    CTRL_FRONTLINE_TOKEN: stack.frontlineToken,
    FRONTLINE_UPSTREAM_PORT_RANGE: `${portBase}-${portBase + 39}`,
    LOG_LEVEL: "warn",
  });
  tenant = await createTenant();
}, 180_000);

afterAll(async () => {
  await frontline?.process.stop();
  if (agent) await stopAgentsAndInstances([agent], [agentDir]);
  await worker?.close(500);
  await stack?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

type Probe = { escaped: boolean; detail: Record<string, unknown> };
type Report = Record<string, Probe> & { where: string; uid: number; escapedAny: boolean };

describe("a hostile tenant", () => {
  it("escapes nothing from its build or its app, and still serves its own page through frontline", async () => {
    // The context: examples/hostile plus the targets it should try (the real ports of this stack).
    const src = join(scratch, "hostile");
    await cp(join(repoRoot, "examples", "hostile"), src, { recursive: true });
    const ports = [stack.apiUrl, stack.restate.ingressUrl, stack.restate.adminUrl, stack.s3.endpoint, agent.httpUrl, frontline.url].map(
      (u) => Number(new URL(u).port),
    );
    await writeFile(
      join(src, "targets.json"),
      JSON.stringify({
        ports: [...ports, workerPort, 3306, portBase, portBase + 1, portBase + 2],
        paths: [agentDir, join(agentDir, "workloads"), repoRoot, scratch],
        secrets: [stack.operatorToken, stack.frontlineToken, tenant.rootKey, stack.database.url],
      }),
    );
    const contextFile = join(scratch, "context.tar.gz");
    await packDirectory(src, contextFile);

    const upload = await publicApi<{ uploadUrl: string; context: string }>("deploy.generateUploadUrl", { projectId: tenant.projectId });
    const put = await fetch(upload.uploadUrl, {
      method: "PUT",
      headers: { "content-type": "application/gzip" },
      body: await readFile(contextFile),
    });
    expect(put.status).toBe(200);
    const { deploymentId } = await publicApi<{ deploymentId: string }>("deploy.createDeployment", {
      projectId: tenant.projectId,
      branch: "main",
      environmentSlug: "production",
      build: { context: upload.context },
    });
    const ready = await waitFor(
      `deployment ${deploymentId} ready`,
      async () => {
        const d = await publicApi<{ status: string; hostnames?: string[]; errorMessage?: string }>("deploy.getDeployment", {
          deploymentId,
        });
        if (/failed/i.test(d.status)) throw new Error(`deploy failed: ${d.errorMessage}`);
        return /ready/i.test(d.status) ? d : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 500 },
    );
    const host = ready.hostnames!.find((h) => /-production-/.test(h)) ?? ready.hostnames![0]!;

    // Its own page answers through frontline (undici's request: fetch drops a Host header).
    const get = async (path: string) => {
      const res = await request(`${frontline.url}${path}`, { headers: { host }, headersTimeout: 60_000, bodyTimeout: 60_000 });
      return { status: res.statusCode, body: await res.body.text() };
    };
    const page = await waitFor("the hostile page through frontline", async () => {
      const res = await get("/");
      return res.status === 200 ? (JSON.parse(res.body) as { message: string }) : undefined;
    });
    expect(page.message).toBe("hostile app, still serving its own page");

    // And every escape failed, in the build and in the app.
    const res = await get("/report");
    expect(res.status, res.body).toBe(200);
    const { app, build } = JSON.parse(res.body) as { app: Report; build: Report | null };
    expect(build, "the build wrote its findings into the artifact").not.toBeNull();
    for (const report of [build!, app]) {
      for (const probe of ["procEnviron", "processes", "network", "files", "writes", "setuid", "forkBomb"]) {
        expect(report[probe]!.escaped, `${report.where} ${probe}: ${JSON.stringify(report[probe])}`).toBe(false);
      }
      expect(report.uid).toBeGreaterThanOrEqual(100_000);
      expect(report.escapedAny).toBe(false);
    }
    expect(app.network!.detail.tried as number).toBeGreaterThanOrEqual(15);

    // Nothing of the tenant's ran as root on the host: every process of its instance has a sandbox uid.
    const sandboxed: number[] = [];
    for (const d of await readdir("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      const env = await readFile(`/proc/${d}/environ`, "utf8").catch(() => "");
      const cmd = await readFile(`/proc/${d}/cmdline`, "utf8").catch(() => "");
      if (env.split("\0").includes(`CTRL_DEPLOYMENT_ID=${deploymentId}`) && cmd.startsWith("node\0"))
        sandboxed.push((await stat(`/proc/${d}`)).uid);
    }
    expect(sandboxed.length).toBeGreaterThan(0);
    expect(sandboxed.every((uid) => uid >= 100_000)).toBe(true);
  });
});
