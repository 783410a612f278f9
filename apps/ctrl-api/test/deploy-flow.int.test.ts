// Long because the deploy-flow cases share one stack with fake agents.
/**
 * The deploy path end to end through ctrl-api: CreateDeployment → the worker's DeployWorkflow →
 * topology → a fake agent per region that plays krane through the real ClusterService RPCs
 * (WatchDeployments stream, ReportDeploymentStatus) → readiness → routes → `ready`; readiness
 * failures; and Rollback/Promote through the API with every precondition's precise Connect code.
 * Guarantees: topology rows carry unique increasing versions and reach the agents; routes for
 * commit, branch and environment (and live for production); `live_deployment_id` moves only for
 * production and not while pinned; a rejected rollback/promote changes nothing; a rollback does not
 * queue behind a deploy that waits for readiness.
 */
import { Code } from "@connectrpc/connect";
import { createRootKey, newId } from "@ctrl/db";
import {
  DeploymentStatus,
  ReportDeploymentStatusRequest_Update_Instance_Status as InstanceStatus,
  type WatchDeploymentResponse,
} from "@ctrl/proto";
import { waitFor } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  clients,
  createWorkspace,
  failure,
  FakeAgent,
  runningOnSight,
  startDeployStack,
  type AgentBehaviour,
} from "./fake-agent.js";
import type { TestStack } from "./harness.js";

let stack: TestStack;
let agents: FakeAgent[];
/** Deployments the agents leave unanswered (to hold a deploy in its readiness wait). */
const silent = new Set<string>();
const answer: AgentBehaviour = (apply) => (silent.has(apply.deploymentId) ? undefined : runningOnSight(apply));
const regions = ["eu", "us"];

beforeAll(async () => {
  // 8 s: long enough that a loaded CI machine still delivers the FAILED reports before the deadline.
  stack = await startDeployStack({
    regions,
    apexDomain: "ctrl.test",
    readinessTimeoutMs: 8_000,
    readinessPollMs: 50,
    openapiTimeoutMs: 300,
  });
  agents = regions.map((r) => new FakeAgent(stack, r, answer).start());
}, 90_000);
afterAll(async () => {
  await Promise.all((agents ?? []).map((a) => a.stop()));
  await stack?.close();
});

const api = () => clients(stack).deployments;
const internal = () => bearer(stack.operatorToken);
const db = () => stack.deps.db;

async function deploy(projectId: string, environmentSlug: string, options: { branch?: string; sha?: string; image?: string } = {}) {
  const { deploymentId } = await api().createDeployment(
    {
      projectId,
      environmentSlug,
      branch: options.branch ?? "main",
      source: { case: "dockerImage", value: options.image ?? "ghcr.io/acme/api:1" },
      gitCommit: {
        commitSha: options.sha ?? randomSha(),
        commitMessage: "change",
        authorHandle: "dev",
        authorAvatarUrl: "",
        timestamp: BigInt(Date.now()),
      },
    },
    internal(),
  );
  return deploymentId;
}

const randomSha = () => Array.from({ length: 40 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");

async function settled(deploymentId: string, timeoutMs = 30_000) {
  return waitFor(
    `deployment ${deploymentId} to settle`,
    async () => {
      const { deployment } = await api().getDeployment({ deploymentId }, internal());
      return deployment && [DeploymentStatus.READY, DeploymentStatus.FAILED, DeploymentStatus.CANCELLED].includes(deployment.status)
        ? deployment
        : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

async function deployReady(projectId: string, environmentSlug: string, branch = "main") {
  const id = await deploy(projectId, environmentSlug, { branch });
  const d = await settled(id);
  expect(d.status, d.errorMessage).toBe(DeploymentStatus.READY);
  return id;
}

const routesOf = (deploymentId: string) =>
  db()
    .selectFrom("frontline_routes")
    .select(["fully_qualified_domain_name as fqdn", "sticky"])
    .where("deployment_id", "=", deploymentId)
    .orderBy("sticky")
    .execute();
const projectRow = (id: string) =>
  db().selectFrom("projects").select(["live_deployment_id", "is_rolled_back"]).where("id", "=", id).executeTakeFirstOrThrow();

describe("deploy from an image", () => {
  it("goes pending → deploying → ready; agents see versioned topology; routes, steps and the live pointer follow", async () => {
    const ws = await createWorkspace(db());
    const events: WatchDeploymentResponse[] = [];
    const id = await deploy(ws.projectId, "production", { branch: "Feature/Login_Page" });
    const watching = (async () => {
      for await (const e of api().watchDeployment({ deploymentId: id }, internal())) events.push(e);
    })();
    const d = await settled(id);
    await watching; // ends at the terminal status
    expect(d.status, d.errorMessage).toBe(DeploymentStatus.READY);

    // Status order as the stream saw it: a subsequence of pending → deploying → ready.
    const statuses = events.filter((e) => !e.step).map((e) => e.status);
    expect(statuses.at(-1)).toBe(DeploymentStatus.READY);
    expect(statuses).toEqual([...statuses].sort((a, b) => a - b));
    expect(statuses).toContain(DeploymentStatus.DEPLOYING);
    expect(events.filter((e) => e.step).map((e) => e.step!.step)).toEqual(
      expect.arrayContaining(["metadata", "topology", "readiness", "cutover"]),
    );

    // One topology row per region with distinct versions; each agent got exactly that row once.
    const topology = await db().selectFrom("deployment_topology").selectAll().where("deployment_id", "=", id).orderBy("region").execute();
    expect(topology.map((t) => [t.region, t.desired_status, t.desired_replicas])).toEqual([
      ["eu", "running", 1],
      ["us", "running", 1],
    ]);
    for (const t of topology) {
      const agent = agents.find((a) => a.region === t.region)!;
      const seen = agent.received.filter((s) => s.state.case === "apply" && s.state.value.deploymentId === id);
      expect(seen.map((s) => Number(s.version))).toEqual([Number(t.version)]);
      expect(seen[0]!.state.value).toMatchObject({
        image: "ghcr.io/acme/api:1",
        replicas: 1,
        cpuMillicores: 250n,
        memoryMib: 256n,
        port: 8080,
        healthCheckPath: "/health",
      });
      // Each agent's stream is strictly increasing.
      const versions = agent.versions();
      expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
    }

    // Routes: commit, branch, environment and live; GetDeployment lists them as hostnames.
    const routes = await routesOf(id);
    expect(routes.map((r) => r.sticky).sort()).toEqual(["branch", "environment", "live", "none"].sort());
    expect(routes.find((r) => r.sticky === "branch")!.fqdn).toContain("-git-feature-login-page-");
    expect([...d.hostnames].sort()).toEqual(routes.map((r) => r.fqdn).sort());
    expect((await projectRow(ws.projectId)).live_deployment_id).toBe(id);
    expect(d.steps.every((s) => s.status === "completed" || s.status === "skipped")).toBe(true);
    expect(await db().selectFrom("instances").select("region").where("deployment_id", "=", id).orderBy("region").execute()).toEqual([
      { region: "eu" },
      { region: "us" },
    ]);

    // A preview deploy gets commit/branch/environment routes and leaves the live pointer alone.
    const preview = await deployReady(ws.projectId, "preview", "main");
    expect((await routesOf(preview)).map((r) => r.sticky).sort()).toEqual(["branch", "environment", "none"]);
    expect((await projectRow(ws.projectId)).live_deployment_id).toBe(id);
  });
});

describe("readiness failures", () => {
  it("an agent reporting FAILED fails the deploy with start_failed (or image_pull_failed); silence fails it with readiness_timeout", async () => {
    const ws = await createWorkspace(db());
    const now = Date.now();
    // Environments pinned to their own regions, each with its own agent behaviour.
    const env = async (slug: string, region: string) => {
      await db()
        .insertInto("environments")
        .values({
          id: newId("env"),
          workspace_id: ws.workspaceId,
          project_id: ws.projectId,
          slug,
          regions: JSON.stringify([region]),
          created_at: now,
          updated_at: now,
        })
        .execute();
    };
    await env("crashing", "crash-region");
    await env("pulling", "pull-region");
    await env("quiet", "quiet-region");
    const crash = new FakeAgent(stack, "crash-region", () => [
      { status: InstanceStatus.FAILED, exitCode: 1, failureReason: "process exited" },
    ]).start();
    const pull = new FakeAgent(stack, "pull-region", () => [
      { status: InstanceStatus.FAILED, failureReason: "ErrImagePull: manifest unknown" },
    ]).start();
    const quiet = new FakeAgent(stack, "quiet-region", () => undefined).start();
    try {
      const [crashed, pulled, timedOut] = await Promise.all([
        deploy(ws.projectId, "crashing"),
        deploy(ws.projectId, "pulling"),
        deploy(ws.projectId, "quiet"),
      ]);
      const rows = async (id: string) => {
        await settled(id);
        return db()
          .selectFrom("deployments")
          .select(["status", "failed_step", "failure_reason", "error_message"])
          .where("id", "=", id)
          .executeTakeFirstOrThrow();
      };
      expect(await rows(crashed)).toMatchObject({ status: "failed", failed_step: "readiness", failure_reason: "start_failed" });
      expect((await rows(crashed)).error_message).toContain("process exited");
      expect(await rows(pulled)).toMatchObject({ status: "failed", failed_step: "readiness", failure_reason: "image_pull_failed" });
      expect(await rows(timedOut)).toMatchObject({ status: "failed", failed_step: "readiness", failure_reason: "readiness_timeout" });
      // A failed deploy's topology is stopped: the agent is told to delete it.
      await waitFor("the crash agent to get the delete", () =>
        crash.received.some((s) => s.state.case === "delete" && s.state.value.k8sName === crashed),
      );
      const got = await api().getDeployment({ deploymentId: crashed }, internal());
      expect(got.deployment).toMatchObject({ status: DeploymentStatus.FAILED, failedStep: "readiness", failureReason: "start_failed" });
      expect(got.deployment!.steps.find((s) => s.step === "readiness")).toMatchObject({ status: "failed" });
    } finally {
      await Promise.all([crash.stop(), pull.stop(), quiet.stop()]);
    }
  });
});

describe("Rollback and Promote through the API", () => {
  let ws: Awaited<ReturnType<typeof createWorkspace>>;
  let d1: string;
  let d2: string;
  let preview: string;
  let failed: string;
  let foreign: string;

  /** Routes and project pointers, to prove a rejected call changed nothing. */
  const snapshot = async () => ({
    routes: await db()
      .selectFrom("frontline_routes")
      .select(["fully_qualified_domain_name", "deployment_id", "updated_at"])
      .where("project_id", "=", ws.projectId)
      .orderBy("fully_qualified_domain_name")
      .execute(),
    project: await db()
      .selectFrom("projects")
      .select(["id", "live_deployment_id", "is_rolled_back", "updated_at"])
      .where("id", "=", ws.projectId)
      .execute(),
  });

  /** Inserts a deployment row in a given state (for preconditions a real deploy cannot reach quickly). */
  const insert = async (projectId: string, workspaceId: string, environmentId: string, status: "ready" | "failed") => {
    const id = newId("d");
    const now = Date.now();
    await db()
      .insertInto("deployments")
      .values({
        id,
        workspace_id: workspaceId,
        project_id: projectId,
        environment_id: environmentId,
        source_type: "image",
        build_context_path: null,
        dockerfile_path: null,
        image: "x:1",
        build_id: null,
        git_commit_sha: "",
        git_branch: "main",
        git_commit_message: null,
        git_commit_author_handle: null,
        git_commit_author_avatar_url: null,
        git_commit_timestamp: null,
        command: null,
        status,
        error_message: null,
        failed_step: null,
        openapi_spec: null,
        cpu_millicores: 250,
        memory_mib: 256,
        replicas: 1,
        port: 8080,
        health_check_path: "/health",
        created_at: now,
        updated_at: now,
      })
      .execute();
    return id;
  };

  beforeAll(async () => {
    ws = await createWorkspace(db());
    d1 = await deployReady(ws.projectId, "production");
    d2 = await deployReady(ws.projectId, "production");
    preview = await deployReady(ws.projectId, "preview");
    failed = await insert(ws.projectId, ws.workspaceId, ws.environments.production, "failed");
    const q = await createWorkspace(db());
    foreign = await insert(q.projectId, q.workspaceId, q.environments.production, "ready");
    expect((await projectRow(ws.projectId)).live_deployment_id).toBe(d2);
  }, 90_000);

  it("every rollback precondition answers its precise code and changes nothing", async () => {
    const before = await snapshot();
    const rollback = (sourceDeploymentId: string, targetDeploymentId: string, opts = internal()) =>
      failure(api().rollback({ sourceDeploymentId, targetDeploymentId }, opts));
    const cases: [string, Promise<{ code: Code; rawMessage: string }>, Code][] = [
      ["source = target", rollback(d2, d2), Code.InvalidArgument],
      ["no source id", rollback("", d1), Code.InvalidArgument],
      ["no target id", rollback(d2, ""), Code.InvalidArgument],
      ["missing source", rollback("d_missing", d1), Code.NotFound],
      ["missing target", rollback(d2, "d_missing"), Code.NotFound],
      ["target of another project", rollback(d2, foreign), Code.InvalidArgument],
      ["target of another environment", rollback(d2, preview), Code.InvalidArgument],
      ["source is not live", rollback(d1, d2), Code.FailedPrecondition],
      ["target is not ready", rollback(d2, failed), Code.FailedPrecondition],
      ["no token", rollback(d2, d1, {} as ReturnType<typeof internal>), Code.Unauthenticated],
      ["another workspace's key", rollback(d2, d1, bearer((await createWorkspace(db())).rootKey)), Code.NotFound],
      [
        "a key without rollback_deployment",
        rollback(d2, d1, bearer(await keyWith(ws.workspaceId, ["project.*.promote_deployment"]))),
        Code.PermissionDenied,
      ],
    ];
    for (const [name, call, code] of cases) {
      const err = await call;
      expect(err.code, `${name}: ${err.rawMessage}`).toBe(code);
      expect(err.rawMessage, name).not.toMatch(/^(invalid_argument|not_found|failed_precondition):/);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("rollback without sticky routes on the live deployment is failed_precondition", async () => {
    const w = await createWorkspace(db());
    const live = await insert(w.projectId, w.workspaceId, w.environments.production, "ready");
    const target = await insert(w.projectId, w.workspaceId, w.environments.production, "ready");
    await db().updateTable("projects").set({ live_deployment_id: live }).where("id", "=", w.projectId).execute();
    const err = await failure(api().rollback({ sourceDeploymentId: live, targetDeploymentId: target }, internal()));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("routes");
    // Promote over a project without a live deployment is failed_precondition too.
    await db().updateTable("projects").set({ live_deployment_id: null }).where("id", "=", w.projectId).execute();
    expect((await failure(api().promote({ targetDeploymentId: target }, internal()))).code).toBe(Code.FailedPrecondition);
  });

  it("rollback repoints the sticky routes and pins; a deploy while pinned keeps them; promote moves them and clears the pin; neither queues behind a deploy in its readiness wait", async () => {
    const liveRoutes = async () =>
      await db()
        .selectFrom("frontline_routes")
        .select(["deployment_id", "sticky"])
        .where("project_id", "=", ws.projectId)
        .where("sticky", "in", ["live", "environment"])
        .where("environment_id", "=", ws.environments.production)
        .execute();
    const d2Own = (await routesOf(d2)).filter((r) => r.sticky === "none");

    await api().rollback({ sourceDeploymentId: d2, targetDeploymentId: d1 }, bearer(ws.rootKey));
    expect(await projectRow(ws.projectId)).toMatchObject({ live_deployment_id: d1, is_rolled_back: 1 });
    expect((await liveRoutes()).every((r) => r.deployment_id === d1)).toBe(true);
    expect((await routesOf(d2)).filter((r) => r.sticky === "none")).toEqual(d2Own); // the commit route stays

    // Pinned: a new production deploy becomes ready but takes neither the live pointer nor the routes.
    const d3 = await deployReady(ws.projectId, "production");
    expect(await projectRow(ws.projectId)).toMatchObject({ live_deployment_id: d1, is_rolled_back: 1 });
    expect((await liveRoutes()).every((r) => r.deployment_id === d1)).toBe(true);

    // Promote preconditions through the API.
    const promote = (targetDeploymentId: string) => failure(api().promote({ targetDeploymentId }, internal()));
    const before = await snapshot();
    expect((await promote("d_missing")).code).toBe(Code.NotFound);
    expect((await promote("")).code).toBe(Code.InvalidArgument);
    expect((await promote(failed)).code).toBe(Code.FailedPrecondition);
    expect((await promote(d1)).code).toBe(Code.FailedPrecondition); // already live
    expect((await promote(preview)).code).toBe(Code.InvalidArgument); // another environment
    expect(
      (await failure(api().promote({ targetDeploymentId: d3 }, bearer(await keyWith(ws.workspaceId, ["project.*.rollback_deployment"])))))
        .code,
    ).toBe(Code.PermissionDenied);
    expect(await snapshot()).toEqual(before);

    // A deploy of the same project held in its readiness wait does not block promote or rollback.
    const held = await deploy(ws.projectId, "production");
    silent.add(held);
    await waitFor("the held deploy to wait for readiness", async () => {
      const step = await db()
        .selectFrom("deployment_steps")
        .select("status")
        .where("deployment_id", "=", held)
        .where("step", "=", "readiness")
        .executeTakeFirst();
      return step?.status === "running";
    });
    await api().promote({ targetDeploymentId: d3 }, bearer(ws.rootKey));
    expect(await projectRow(ws.projectId)).toMatchObject({ live_deployment_id: d3, is_rolled_back: 0 });
    expect((await liveRoutes()).every((r) => r.deployment_id === d3)).toBe(true);
    await api().rollback({ sourceDeploymentId: d3, targetDeploymentId: d2 }, internal());
    expect(await projectRow(ws.projectId)).toMatchObject({ live_deployment_id: d2, is_rolled_back: 1 });
    const heldRow = await db().selectFrom("deployments").select("status").where("id", "=", held).executeTakeFirstOrThrow();
    expect(heldRow.status).toBe("deploying"); // still waiting: the switches did not queue behind it

    // Promote and rollback fired at once: whichever order the project's object runs them in, the
    // loser gets a precise code (never internal) and routes and live pointer agree afterwards.
    for (let round = 0; round < 3; round++) {
      const { live_deployment_id: live } = await projectRow(ws.projectId);
      const other = live === d1 ? d2 : d1;
      const results = await Promise.allSettled([
        api().promote({ targetDeploymentId: d3 }, internal()),
        api().rollback({ sourceDeploymentId: live!, targetDeploymentId: other }, internal()),
      ]);
      for (const r of results)
        if (r.status === "rejected")
          expect([Code.FailedPrecondition, Code.InvalidArgument]).toContain((await failure(Promise.reject(r.reason))).code);
      expect(results.some((r) => r.status === "fulfilled")).toBe(true);
      const after = await projectRow(ws.projectId);
      const routes = await liveRoutes();
      expect(new Set(routes.map((r) => r.deployment_id))).toEqual(new Set([after.live_deployment_id]));
    }
  });
});

/** A root key of `workspaceId` with exactly `permissions`. */
async function keyWith(workspaceId: string, permissions: string[]): Promise<string> {
  return (await createRootKey(db(), { workspaceId, name: "scoped", permissions, now: Date.now() })).key;
}
