/**
 * Edge test fixtures shared by the sentinel and frontline tests (and bench): rows the routing reads
 * (inserted directly, as the deploy workflow and the agent would write them) and real upstream
 * processes. The bundled sentinel as a real process is `@ctrl/sentinel/testing`.
 */
import { newId, type Db } from "@ctrl/db";
import { request as httpRequest } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startProcess, type ManagedProcess } from "./process.js";
import { freePort, waitForHttpOk } from "./wait.js";

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
