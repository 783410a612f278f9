/**
 * The worker's deploy test stack: a fresh MariaDB database, a private restate-server and the
 * worker's Restate endpoint (in-process, or as a child process for crash tests), plus helpers that
 * play ctrl-api (insert a `pending` deployment, submit the workflow) and the agent (report
 * instances for the topology rows it sees). Real parts only: no mocks.
 */
import "../src/polyfill.js";
import { newId, seedLocal, type Db, type InstanceStatus, type SeedResult } from "@ctrl/db";
import { createTestDatabase, registerDeployment, startRestate, waitFor, type RestateServer, type TestDatabase } from "@ctrl/testing";
import * as clients from "@restatedev/restate-sdk-clients";
import { pino } from "pino";
import type { DeployResult, DeployWorkflowApi, DeploymentServiceApi } from "../src/api.js";
import { createEndpoint, type WorkerEndpoint } from "../src/endpoint.js";
import type { WorkerSettings } from "../src/settings.js";

/** What a deploy test talks to. */
export interface DeployStack {
  database: TestDatabase;
  db: Db;
  restate: RestateServer;
  rs: clients.Ingress;
  seed: SeedResult;
  settings: Partial<WorkerSettings>;
  worker?: { endpoint: WorkerEndpoint; url: string };
  /** Starts an in-process worker endpoint and registers it. */
  startWorker(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the stack; `worker: false` leaves the endpoint to the test (crash tests run it as a process). */
export async function startDeployStack(settings: Partial<WorkerSettings>, options: { worker?: boolean } = {}): Promise<DeployStack> {
  const [database, restate] = await Promise.all([
    createTestDatabase(),
    startRestate({ env: { RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS: "1000" } }),
  ]);
  const seed = await seedLocal(database.db);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const stack: DeployStack = {
    database,
    db: database.db,
    restate,
    rs: clients.connect({ url: restate.ingressUrl }),
    seed,
    settings,
    async startWorker() {
      const endpoint = createEndpoint({ db: database.db, logger, settings }, { identityKeys: restate.identityKeys });
      const port = await endpoint.listen(0, "127.0.0.1");
      const url = `http://127.0.0.1:${port}`;
      await registerDeployment(restate.adminUrl, url);
      stack.worker = { endpoint, url };
    },
    async close() {
      await stack.worker?.endpoint.close(500);
      await restate.dispose();
      await database.drop();
    },
  };
  if (options.worker ?? true) await stack.startWorker();
  return stack;
}

/** A project with `production` and `preview` environments in the seeded workspace. */
export async function createProject(db: Db, workspaceId: string, slug: string, options: { regions?: string[] } = {}) {
  const now = Date.now();
  const projectId = newId("proj");
  await db
    .insertInto("projects")
    .values({ id: projectId, workspace_id: workspaceId, name: slug, slug, live_deployment_id: null, created_at: now, updated_at: now })
    .execute();
  const environments: Record<"production" | "preview", string> = { production: newId("env"), preview: newId("env") };
  for (const [envSlug, id] of Object.entries(environments)) {
    await db
      .insertInto("environments")
      .values({
        id,
        workspace_id: workspaceId,
        project_id: projectId,
        slug: envSlug,
        regions: options.regions ? JSON.stringify(options.regions) : null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }
  return { projectId, environments };
}

/** What ctrl-api's CreateDeployment inserts (an image deploy unless `buildContextPath` is given). */
export interface DeploymentFixture {
  workspaceId: string;
  projectId: string;
  environmentId: string;
  branch?: string;
  sha?: string;
  image?: string;
  buildContextPath?: string;
  replicas?: number;
  status?: "pending" | "ready";
  /** Creation time (ms); defaults to now. */
  createdAt?: number;
}

/** Inserts a deployment row (as ctrl-api does) and returns its id. */
export async function insertDeployment(db: Db, f: DeploymentFixture): Promise<string> {
  const id = newId("d");
  const now = f.createdAt ?? Date.now();
  await db
    .insertInto("deployments")
    .values({
      id,
      workspace_id: f.workspaceId,
      project_id: f.projectId,
      environment_id: f.environmentId,
      source_type: f.buildContextPath ? "build_context" : "image",
      build_context_path: f.buildContextPath ?? null,
      dockerfile_path: null,
      image: f.buildContextPath ? null : (f.image ?? "registry.example/app:1"),
      build_id: null,
      git_commit_sha: f.sha ?? "",
      git_branch: f.branch ?? "main",
      command: null,
      status: f.status ?? "pending",
      error_message: null,
      failed_step: null,
      openapi_spec: null,
      cpu_millicores: 100,
      memory_mib: 128,
      replicas: f.replicas ?? 1,
      port: 8080,
      health_check_path: "/health",
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** A random 40-hex commit sha. */
export function randomSha(): string {
  return Array.from({ length: 40 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");
}

/** The typed workflow client of a deployment. */
export function deployClient(rs: clients.Ingress, deploymentId: string) {
  return rs.workflowClient<DeployWorkflowApi>({ name: "DeployWorkflow" }, deploymentId);
}

/** The typed DeploymentService client of a project. */
export function deploymentService(rs: clients.Ingress, projectId: string) {
  return rs.objectClient<DeploymentServiceApi>({ name: "DeploymentService" }, projectId);
}

/**
 * Submits the deploy workflow as ctrl-api does. No idempotency key: restate rejects one on workflow
 * handlers; the workflow key (= deployment id) already makes a repeated submit a no-op.
 */
export async function submitDeploy(rs: clients.Ingress, deploymentId: string): Promise<void> {
  await deployClient(rs, deploymentId).workflowSubmit({ deploymentId });
}

/** Waits for the workflow's result. */
export async function attachDeploy(rs: clients.Ingress, deploymentId: string): Promise<DeployResult> {
  return deployClient(rs, deploymentId).workflowAttach();
}

/** How the simulated agent reports a deployment's instances. */
export interface AgentReport {
  status: InstanceStatus;
  exitCode?: number | null;
  failureReason?: string | null;
  /** host:port reported for every instance (e.g. a test HTTP server serving /openapi.json). */
  address?: string;
}

/**
 * Plays the region agents: waits until the deployment has a `running` topology row in every one of
 * `regions` (what WatchDeployments would deliver), then upserts `desired_replicas` instances per
 * region with the given status. Returns the topology rows it acted on.
 */
export async function playAgent(db: Db, deploymentId: string, regions: string[], report: AgentReport) {
  const rows = await waitFor(
    `topology of ${deploymentId} in ${regions.join(",")}`,
    async () => {
      const r = await db
        .selectFrom("deployment_topology")
        .selectAll()
        .where("deployment_id", "=", deploymentId)
        .where("desired_status", "=", "running")
        .execute();
      return r.length >= regions.length ? r : undefined;
    },
    { timeoutMs: 30_000 },
  );
  const deployment = await db
    .selectFrom("deployments")
    .select(["workspace_id", "project_id"])
    .where("id", "=", deploymentId)
    .executeTakeFirstOrThrow();
  const now = Date.now();
  for (const row of rows) {
    for (let i = 0; i < row.desired_replicas; i++) {
      const k8sName = `${deploymentId.toLowerCase()}-${row.region}-${i}`;
      await db
        .insertInto("instances")
        .values({
          id: newId("ins"),
          workspace_id: deployment.workspace_id,
          project_id: deployment.project_id,
          deployment_id: deploymentId,
          region: row.region,
          k8s_name: k8sName,
          address: report.address ?? `127.0.0.1:${20000 + i}`,
          cpu_millicores: 100,
          memory_mib: 128,
          status: report.status,
          exit_code: report.exitCode ?? null,
          halt_intent: null,
          failure_reason: report.failureReason ?? null,
          created_at: now,
          updated_at: now,
        })
        .onDuplicateKeyUpdate({
          status: report.status,
          exit_code: report.exitCode ?? null,
          failure_reason: report.failureReason ?? null,
          updated_at: now,
        })
        .execute();
    }
  }
  return rows;
}

/** Everything a deploy wrote, for assertions. */
export async function readDeployState(db: Db, deploymentId: string) {
  const [deployment, steps, topology, routes] = await Promise.all([
    db.selectFrom("deployments").selectAll().where("id", "=", deploymentId).executeTakeFirstOrThrow(),
    db.selectFrom("deployment_steps").selectAll().where("deployment_id", "=", deploymentId).orderBy("id").execute(),
    db.selectFrom("deployment_topology").selectAll().where("deployment_id", "=", deploymentId).orderBy("region").execute(),
    db
      .selectFrom("frontline_routes")
      .selectAll()
      .where("deployment_id", "=", deploymentId)
      .orderBy("fully_qualified_domain_name")
      .execute(),
  ]);
  return { deployment, steps, topology, routes, stepStatus: Object.fromEntries(steps.map((s) => [s.step, s.status])) };
}

/** The project's live pointer and pin. */
export async function readProject(db: Db, projectId: string) {
  const p = await db
    .selectFrom("projects")
    .select(["live_deployment_id", "is_rolled_back"])
    .where("id", "=", projectId)
    .executeTakeFirstOrThrow();
  return { live: p.live_deployment_id, pinned: Boolean(Number(p.is_rolled_back)) };
}
