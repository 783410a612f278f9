/**
 * Edge test fixtures shared by the sentinel and frontline tests: rows the routing reads (inserted
 * directly, as the deploy workflow and the agent would write them), real upstream processes, and
 * the bundled sentinel as a real process.
 */
import { newId, type Db } from "@ctrl/db";
import { freePort, startProcess, waitFor, waitForHttpOk, type ManagedProcess } from "@ctrl/testing";
import { mkdtemp } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleSentinel } from "../scripts/bundle.js";

const here = dirname(fileURLToPath(import.meta.url));

/** A project with one environment in the test database. */
export interface EdgeProject {
  workspaceId: string;
  projectId: string;
  environmentId: string;
}

/** Inserts a workspace-less project/environment pair (the edge reads no workspace or project row). */
export function newEdgeProject(): EdgeProject {
  return { workspaceId: newId("ws"), projectId: newId("proj"), environmentId: newId("env") };
}

/** Inserts a `ready` deployment of `project` and returns its id. */
export async function insertDeployment(db: Db, project: EdgeProject, now = Date.now()): Promise<string> {
  const id = newId("d");
  await db
    .insertInto("deployments")
    .values({
      id,
      workspace_id: project.workspaceId,
      project_id: project.projectId,
      environment_id: project.environmentId,
      source_type: "image",
      image: "test",
      status: "ready",
      cpu_millicores: 100,
      memory_mib: 128,
      replicas: 1,
      port: 8080,
      health_check_path: "/health",
      git_commit_sha: "",
      git_branch: "main",
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** Inserts an instance row as the agent reports it. */
export async function insertInstance(
  db: Db,
  project: EdgeProject,
  deploymentId: string,
  address: string,
  status: "pending" | "running" | "failed" = "running",
  region = "local",
): Promise<string> {
  const id = newId("ins");
  const now = Date.now();
  await db
    .insertInto("instances")
    .values({
      id,
      workspace_id: project.workspaceId,
      project_id: project.projectId,
      deployment_id: deploymentId,
      region,
      k8s_name: id,
      address,
      cpu_millicores: 100,
      memory_mib: 128,
      status,
      exit_code: null,
      halt_intent: null,
      failure_reason: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** Points `fqdn` at `deploymentId` (insert or move), as RoutingService does. */
export async function setRoute(
  db: Db,
  project: EdgeProject,
  fqdn: string,
  deploymentId: string,
  sticky: "none" | "branch" | "environment" | "live" = "environment",
): Promise<void> {
  const now = Date.now();
  await db
    .insertInto("frontline_routes")
    .values({
      id: newId("route"),
      workspace_id: project.workspaceId,
      project_id: project.projectId,
      environment_id: project.environmentId,
      deployment_id: deploymentId,
      fully_qualified_domain_name: fqdn,
      sticky,
      created_at: now,
      updated_at: now,
    })
    .onDuplicateKeyUpdate({ deployment_id: deploymentId, updated_at: now })
    .execute();
}

/** Writes the environment's sentinel row for `region` as the agent reports it. */
export async function setSentinel(
  db: Db,
  project: EdgeProject,
  addresses: string[],
  health: "healthy" | "unhealthy" | "unknown" = "healthy",
  region = "local",
): Promise<string> {
  const now = Date.now();
  const existing = await db
    .selectFrom("sentinels")
    .select("id")
    .where("environment_id", "=", project.environmentId)
    .where("region", "=", region)
    .executeTakeFirst();
  if (existing) {
    await db
      .updateTable("sentinels")
      .set({ addresses: JSON.stringify(addresses), health, available_replicas: addresses.length, updated_at: now })
      .where("id", "=", existing.id)
      .execute();
    return existing.id;
  }
  const id = newId("se");
  const version = Math.floor(Math.random() * 1e9);
  await db
    .insertInto("sentinels")
    .values({
      id,
      workspace_id: project.workspaceId,
      project_id: project.projectId,
      environment_id: project.environmentId,
      region,
      k8s_name: id,
      image: "sentinel",
      desired_replicas: 1,
      desired_state: "running",
      cpu_millicores: 100,
      memory_mib: 128,
      health,
      available_replicas: addresses.length,
      running_image: "sentinel",
      addresses: JSON.stringify(addresses),
      version,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** A real upstream process (test/fixtures/upstream.mjs). */
export interface Upstream {
  name: string;
  address: string;
  process: ManagedProcess;
}

/** Starts an upstream process that answers `GET /` with `name`. */
export async function startUpstream(name: string): Promise<Upstream> {
  const port = await freePort();
  const proc = startProcess(`upstream-${name}`, process.execPath, [join(here, "fixtures/upstream.mjs")], {
    env: { ...process.env, NAME: name, PORT: String(port) },
  });
  await waitForHttpOk(`http://127.0.0.1:${port}/health`, 10_000);
  return { name, address: `127.0.0.1:${port}`, process: proc };
}

/** Bundles the sentinel into a fresh directory outside the repo (no node_modules within reach). */
export async function bundleSentinelForTest(): Promise<string> {
  return bundleSentinel(await mkdtemp(join(tmpdir(), "ctrl-sentinel-")));
}

/** A sentinel running from its bundle as a real process. */
export interface SentinelProcess {
  address: string;
  port: number;
  process: ManagedProcess;
  health(): Promise<{ requests: number; instances: number; retries: number; byDeployment: Record<string, number> }>;
}

/** Starts `node sentinel.cjs` from `bundleDir` as the agent would (env from packages/artifact `instanceEnv`). */
export async function startSentinelProcess(
  bundleDir: string,
  options: { databaseUrl: string; environmentId: string; port?: number; region?: string; upstreamPorts?: string },
): Promise<SentinelProcess> {
  const port = options.port ?? (await freePort());
  const proc = startProcess("sentinel", process.execPath, ["sentinel.cjs"], {
    cwd: bundleDir,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      CTRL_ENVIRONMENT_ID: options.environmentId,
      CTRL_REGION: options.region ?? "local",
      CTRL_SENTINEL_ID: "se_test",
      DATABASE_URL: options.databaseUrl,
      SENTINEL_POLL_INTERVAL_MS: "100",
      // Test upstreams listen on ephemeral ports (32768+), outside krane's default range.
      SENTINEL_UPSTREAM_PORT_RANGE: options.upstreamPorts ?? "1024-65535",
      LOG_LEVEL: "info",
    },
  });
  const url = `http://127.0.0.1:${port}/_ctrl/health`;
  await waitFor(
    `sentinel on ${port}`,
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`sentinel exited: ${proc.tail()}`);
      return (await fetch(url)).status === 200;
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  return {
    address: `127.0.0.1:${port}`,
    port,
    process: proc,
    async health() {
      return (await (await fetch(url)).json()) as Awaited<ReturnType<SentinelProcess["health"]>>;
    },
  };
}

/**
 * Sends an `Upgrade: echo` request to `url` with `headers`, writes `message` on the tunnel and
 * resolves with the upstream's name (its `x-upstream` header) and what came back; rejects on a
 * non-101 answer with its status.
 */
export function upgradeEcho(url: string, headers: Record<string, string>, message: string): Promise<{ upstream: string; echoed: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { connection: "Upgrade", upgrade: "echo", ...headers } });
    req.on("upgrade", (res, socket) => {
      let echoed = "";
      socket.on("data", (chunk: Buffer) => {
        echoed += chunk.toString();
        if (echoed.length >= message.length) {
          socket.destroy();
          resolve({ upstream: String(res.headers["x-upstream"]), echoed });
        }
      });
      socket.write(message);
    });
    req.on("response", (res) => {
      res.resume();
      reject(Object.assign(new Error(`no upgrade: ${res.statusCode}`), { status: res.statusCode }));
    });
    req.on("error", reject);
    req.end();
  });
}
