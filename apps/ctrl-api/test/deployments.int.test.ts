// Long because the deployment RPCs' cases share one started stack (MariaDB, restate-server, worker, S3).
/**
 * DeploymentService through a real Connect client: CreateDeployment's rules (docs/wire.md "Behaviour the
 * reference has and we keep"), "a workflow that cannot start leaves the deployment failed, never
 * pending", GetDeployment's read model, ListDeployments' keyset pages and WatchDeployment's stream.
 * Guarantees: every bad input is rejected with its precise code and writes nothing; a root key never
 * reaches another workspace (not_found) and needs its permission (permission_denied).
 */
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DeploymentService, DeploymentStatus, type WatchDeploymentResponse } from "@ctrl/proto";
import { freePort, waitFor } from "@ctrl/testing";
import * as restateClients from "@restatedev/restate-sdk-clients";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resubmitStalePending } from "../src/deployment-model/resubmit-pending.js";
import { buildServer } from "../src/server.js";
import { bearer, clients, createWorkspace, failure, startDeployStack } from "./fake-agent.js";
import type { TestStack } from "./harness.js";

let stack: TestStack;
let ws: Awaited<ReturnType<typeof createWorkspace>>;
let other: Awaited<ReturnType<typeof createWorkspace>>;
const image = "ghcr.io/acme/api:1.2.3";

beforeAll(async () => {
  // No agent in this file: deploys started here fail their readiness wait quickly.
  stack = await startDeployStack({ readinessTimeoutMs: 1_500, readinessPollMs: 100 });
  ws = await createWorkspace(stack.deps.db, ["project.*.*"], "trunk");
  other = await createWorkspace(stack.deps.db);
}, 90_000);
afterAll(async () => stack?.close());

const api = () => clients(stack).deployments;
const internal = () => bearer(stack.operatorToken);
const countDeployments = async () =>
  Number(
    (
      await stack.deps.db
        .selectFrom("deployments")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe("CreateDeployment", () => {
  it("creates a pending deployment with the defaults and starts its workflow", async () => {
    const res = await api().createDeployment(
      {
        projectId: ws.projectId,
        environmentSlug: "preview",
        source: { case: "dockerImage", value: image },
        command: ["node", "server.js"],
      },
      internal(),
    );
    expect(res.deploymentId).toMatch(/^d_/);
    expect(res.status).toBe(DeploymentStatus.PENDING);
    const row = await stack.deps.db.selectFrom("deployments").selectAll().where("id", "=", res.deploymentId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      project_id: ws.projectId,
      workspace_id: ws.workspaceId,
      environment_id: ws.environments.preview,
      source_type: "image",
      image,
      git_branch: "trunk", // the project's default branch
      cpu_millicores: 250,
      memory_mib: 256,
      replicas: 1,
      port: 8080,
      health_check_path: "/health",
      command: JSON.stringify(["node", "server.js"]),
    });
    // The workflow runs: with no agent it leaves pending and eventually fails its readiness wait.
    await waitFor("the workflow to take the deployment", async () => {
      const r = await stack.deps.db.selectFrom("deployments").select("status").where("id", "=", res.deploymentId).executeTakeFirstOrThrow();
      return r.status !== "pending";
    });
  });

  it("defaults the branch to main when the project has none and the dockerfile to Dockerfile", async () => {
    await stack.deps.db.updateTable("projects").set({ default_branch: "" }).where("id", "=", other.projectId).execute();
    const res = await api().createDeployment(
      {
        projectId: other.projectId,
        environmentSlug: "preview",
        source: { case: "buildContext", value: { buildContextPath: `${other.projectId}/build_abc.tar.gz` } },
      },
      bearer(other.rootKey),
    );
    const row = await stack.deps.db.selectFrom("deployments").selectAll().where("id", "=", res.deploymentId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      git_branch: "main",
      source_type: "build_context",
      build_context_path: `${other.projectId}/build_abc.tar.gz`,
      dockerfile_path: "Dockerfile",
      image: null,
    });
  });

  it("keeps an explicit branch and git metadata, cutting message/handle/avatar to 10240/256/512 bytes on character boundaries", async () => {
    const timestamp = Date.now() - 60_000;
    const res = await api().createDeployment(
      {
        projectId: ws.projectId,
        environmentSlug: "preview",
        branch: "feature/x",
        source: { case: "dockerImage", value: image },
        gitCommit: {
          commitSha: "ABCDEF1234567",
          commitMessage: "é".repeat(6000),
          authorHandle: "😀".repeat(100),
          authorAvatarUrl: `https://x/${"a".repeat(600)}`,
          timestamp: BigInt(timestamp),
        },
      },
      internal(),
    );
    const row = await stack.deps.db.selectFrom("deployments").selectAll().where("id", "=", res.deploymentId).executeTakeFirstOrThrow();
    expect(row.git_branch).toBe("feature/x");
    expect(row.git_commit_sha).toBe("abcdef1234567");
    expect(row.git_commit_timestamp).toBe(timestamp);
    expect(Buffer.byteLength(row.git_commit_message!)).toBe(10_240); // 5120 two-byte characters
    expect(row.git_commit_message).toBe("é".repeat(5120));
    expect(row.git_commit_author_handle).toBe("😀".repeat(64)); // 64 × 4 bytes = 256
    expect(Buffer.byteLength(row.git_commit_author_avatar_url!)).toBe(512);
  });

  type Req = Parameters<ReturnType<typeof api>["createDeployment"]>[0];
  const git = (patch: Record<string, unknown>) => ({
    commitSha: "",
    commitMessage: "",
    authorHandle: "",
    authorAvatarUrl: "",
    timestamp: 0n,
    ...patch,
  });
  const context = (buildContextPath: string, dockerfilePath?: string) => ({
    case: "buildContext" as const,
    value: { buildContextPath, dockerfilePath },
  });
  const cases: [string, (projectId: string) => Partial<Req>, string][] = [
    ["no project_id", () => ({ projectId: "" }), "project_id"],
    ["no environment_slug", () => ({ environmentSlug: "" }), "environment_slug"],
    ["no source", () => ({ source: { case: undefined } }), "exactly one source"],
    ["an empty image", () => ({ source: { case: "dockerImage", value: " " } }), "docker_image"],
    ["an image that is not a reference", () => ({ source: { case: "dockerImage", value: "not an image!" } }), "docker_image"],
    [
      "an artifact reference with ..",
      (p) => ({ source: { case: "dockerImage", value: `s3://ctrl-builds/${p}/../x@sha256:${"a".repeat(64)}` } }),
      "docker_image",
    ],
    [
      "another project's artifact",
      () => ({ source: { case: "dockerImage", value: `s3://ctrl-builds/proj_other/artifacts/b.tar.gz@sha256:${"a".repeat(64)}` } }),
      "this project",
    ],
    ["a build context of another project", () => ({ source: context("proj_other/build_x.tar.gz") }), "build_context_path"],
    ["a build context escaping the project", (p) => ({ source: context(`${p}/../x.tar.gz`) }), "build_context_path"],
    ["a dockerfile outside the context", (p) => ({ source: context(`${p}/build_x.tar.gz`, "../Dockerfile") }), "dockerfile_path"],
    ["a timestamp in seconds", () => ({ gitCommit: git({ timestamp: BigInt(Math.floor(Date.now() / 1000)) }) }), "seconds"],
    ["a timestamp over an hour ahead", () => ({ gitCommit: git({ timestamp: BigInt(Date.now() + 2 * 3600_000) }) }), "future"],
    ["a sha that is not hex", () => ({ gitCommit: git({ commitSha: "zzzzzzz" }) }), "commit_sha"],
    ["a branch over 255 bytes", () => ({ branch: "b".repeat(256) }), "branch"],
    ["too many command arguments", () => ({ command: Array.from({ length: 65 }, () => "x") }), "command"],
  ];
  it.each(cases)("rejects %s with invalid_argument and writes nothing", async (_name, patch, message) => {
    const before = await countDeployments();
    const req = {
      projectId: ws.projectId,
      environmentSlug: "preview",
      source: { case: "dockerImage" as const, value: image },
      ...patch(ws.projectId),
    } as Req;
    const err = await failure(api().createDeployment(req, internal()));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain(message);
    expect(await countDeployments()).toBe(before);
  });

  it("is not_found for an unknown project, an unknown environment, and another workspace's project", async () => {
    const base = { environmentSlug: "preview", source: { case: "dockerImage" as const, value: image } };
    expect((await failure(api().createDeployment({ ...base, projectId: "proj_missing" }, internal()))).code).toBe(Code.NotFound);
    expect((await failure(api().createDeployment({ ...base, projectId: ws.projectId, environmentSlug: "staging" }, internal()))).code).toBe(
      Code.NotFound,
    );
    const foreign = await failure(api().createDeployment({ ...base, projectId: other.projectId }, bearer(ws.rootKey)));
    expect(foreign.code).toBe(Code.NotFound);
    const missing = await failure(api().createDeployment({ ...base, projectId: "proj_missing" }, bearer(ws.rootKey)));
    expect(foreign.rawMessage.replace(other.projectId, "X")).toBe(missing.rawMessage.replace("proj_missing", "X"));
  });

  it("needs a token and, for a root key, create_deployment", async () => {
    const req = { projectId: ws.projectId, environmentSlug: "preview", source: { case: "dockerImage" as const, value: image } };
    expect((await failure(api().createDeployment(req))).code).toBe(Code.Unauthenticated);
    expect((await failure(api().createDeployment(req, bearer("ctrl_wrong")))).code).toBe(Code.Unauthenticated);
    const readOnly = await createWorkspace(stack.deps.db, ["project.*.read_deployment"]);
    const denied = await failure(api().createDeployment({ ...req, projectId: readOnly.projectId }, bearer(readOnly.rootKey)));
    expect(denied.code).toBe(Code.PermissionDenied);
    expect(denied.rawMessage).toContain("create_deployment");
  });

  it("marks the deployment failed with the reason and a failed step when the workflow cannot start, and answers unavailable", async () => {
    const deadIngress = `http://127.0.0.1:${await freePort()}`;
    const server: FastifyInstance = await buildServer({ ...stack.deps, restate: restateClients.connect({ url: deadIngress }) });
    await server.listen({ port: 0, host: "127.0.0.1" });
    try {
      const transport = createConnectTransport({
        baseUrl: `http://127.0.0.1:${(server.server.address() as { port: number }).port}`,
        httpVersion: "1.1",
      });
      const err = await failure(
        createClient(DeploymentService, transport).createDeployment(
          { projectId: ws.projectId, environmentSlug: "preview", source: { case: "dockerImage", value: image } },
          internal(),
        ),
      );
      expect(err.code).toBe(Code.Unavailable);
      const id = /deployment (d_\w+)/.exec(err.rawMessage)?.[1];
      expect(id).toBeDefined();
      const row = await stack.deps.db.selectFrom("deployments").selectAll().where("id", "=", id!).executeTakeFirstOrThrow();
      expect(row.status).toBe("failed");
      expect(row.failed_step).toBe("start");
      expect(row.error_message).toContain("could not be started");
      const steps = await stack.deps.db.selectFrom("deployment_steps").selectAll().where("deployment_id", "=", id!).execute();
      expect(steps).toEqual([expect.objectContaining({ step: "start", status: "failed" })]);
      // GetDeployment shows the failure.
      const got = await api().getDeployment({ deploymentId: id! }, internal());
      expect(got.deployment?.status).toBe(DeploymentStatus.FAILED);
      expect(got.deployment?.steps.map((s) => [s.step, s.status])).toEqual([["start", "failed"]]);
    } finally {
      await server.close();
    }
  });
});

describe("pending sweeper", () => {
  it("starts the workflow of a deployment left pending by a crash between insert and submit, once", async () => {
    // The row as CreateDeployment inserts it, 60 s old, with no workflow (the process died before submitting).
    const id = await insertDeployment(ws.projectId, ws.workspaceId, ws.environments.preview, Date.now() - 60_000, "pending");
    expect(await resubmitStalePending(stack.deps, 30_000)).toBeGreaterThanOrEqual(1);
    await waitFor("the resubmitted workflow to take the deployment", async () => {
      const row = await stack.deps.db.selectFrom("deployments").select("status").where("id", "=", id).executeTakeFirstOrThrow();
      return row.status !== "pending";
    });
    const steps = await stack.deps.db.selectFrom("deployment_steps").select("step").where("deployment_id", "=", id).execute();
    expect(steps.map((s) => s.step)).toContain("metadata");
    // "Once": sweeping again starts nothing for it (the workflow key is the deployment id), and the
    // workflow's first step was recorded a single time.
    await stack.deps.db.updateTable("deployments").set({ status: "pending" }).where("id", "=", id).execute();
    expect(await resubmitStalePending(stack.deps, 30_000)).toBe(0);
    await stack.deps.db.updateTable("deployments").set({ status: "cancelled" }).where("id", "=", id).execute();
    const metadataSteps = await stack.deps.db
      .selectFrom("deployment_steps")
      .select("step")
      .where("deployment_id", "=", id)
      .where("step", "=", "metadata")
      .execute();
    expect(metadataSteps).toHaveLength(1);
    // A fresh pending deployment (younger than the threshold) is left alone.
    const fresh = await insertDeployment(ws.projectId, ws.workspaceId, ws.environments.preview, Date.now(), "pending");
    expect(await resubmitStalePending(stack.deps, 30_000)).toBe(0);
    await stack.deps.db.updateTable("deployments").set({ status: "cancelled" }).where("id", "=", fresh).execute();
  });
});

describe("pending sweeper on two replicas", () => {
  it("starts one workflow when two replicas sweep the same stale deployment at once", async () => {
    const id = await insertDeployment(ws.projectId, ws.workspaceId, ws.environments.preview, Date.now() - 60_000, "pending");
    // Two ApiDeps as two ctrl-api replicas would have them: their own Restate clients, same database.
    const replicaB = { ...stack.deps, restate: restateClients.connect({ url: stack.restate.ingressUrl }) };
    const started = await Promise.all([resubmitStalePending(stack.deps, 30_000), resubmitStalePending(replicaB, 30_000)]);
    expect(started[0] + started[1]).toBe(1);
    await waitFor("the workflow to take the deployment", async () => {
      const row = await stack.deps.db.selectFrom("deployments").select("status").where("id", "=", id).executeTakeFirstOrThrow();
      return row.status !== "pending";
    });
    const metadataSteps = await stack.deps.db
      .selectFrom("deployment_steps")
      .select("step")
      .where("deployment_id", "=", id)
      .where("step", "=", "metadata")
      .execute();
    expect(metadataSteps).toHaveLength(1);
    await stack.deps.db.updateTable("deployments").set({ status: "cancelled" }).where("id", "=", id).execute();
  });
});

/** Inserts a deployment row directly (read-model tests need exact timestamps and statuses). */
async function insertDeployment(
  projectId: string,
  workspaceId: string,
  environmentId: string,
  createdAt: number,
  status: "pending" | "ready" | "failed" = "ready",
) {
  const id = `d_test${createdAt}${Math.random().toString(36).slice(2, 8)}`;
  await stack.deps.db
    .insertInto("deployments")
    .values({
      id,
      workspace_id: workspaceId,
      project_id: projectId,
      environment_id: environmentId,
      source_type: "image",
      build_context_path: null,
      dockerfile_path: null,
      image,
      build_id: null,
      git_commit_sha: "abc1234",
      git_branch: "main",
      git_commit_message: "msg",
      git_commit_author_handle: "me",
      git_commit_author_avatar_url: null,
      git_commit_timestamp: createdAt,
      command: null,
      status,
      error_message: status === "failed" ? "boom" : null,
      failed_step: status === "failed" ? "readiness" : null,
      openapi_spec: null,
      cpu_millicores: 500,
      memory_mib: 512,
      replicas: 2,
      port: 3000,
      health_check_path: "/healthz",
      created_at: createdAt,
      updated_at: createdAt,
    })
    .execute();
  return id;
}

describe("GetDeployment", () => {
  it("returns status, error, hostnames, steps in order, topology and git fields", async () => {
    const id = await insertDeployment(ws.projectId, ws.workspaceId, ws.environments.preview, 1_700_000_000_000, "failed");
    const db = stack.deps.db;
    const step = (name: string, startedAt: number, status: "completed" | "failed") => ({
      deployment_id: id,
      step: name,
      status,
      message: `${name} message`,
      error_message: status === "failed" ? "it broke" : null,
      started_at: startedAt,
      ended_at: startedAt + 5,
      updated_at: startedAt + 5,
    });
    await db
      .insertInto("deployment_steps")
      .values([step("readiness", 30, "failed"), step("metadata", 10, "completed"), step("topology", 20, "completed")])
      .execute();
    await db
      .insertInto("deployment_topology")
      .values({
        id: `top_${id}`,
        workspace_id: ws.workspaceId,
        deployment_id: id,
        region: "eu",
        desired_replicas: 2,
        desired_status: "running",
        version: 1,
        created_at: 1,
        updated_at: 1,
      })
      .execute();
    for (const host of ["b.example", "a.example"]) {
      await db
        .insertInto("frontline_routes")
        .values({
          id: `route_${host}${id}`,
          workspace_id: ws.workspaceId,
          project_id: ws.projectId,
          environment_id: ws.environments.preview,
          deployment_id: id,
          fully_qualified_domain_name: `${host}.${id.toLowerCase()}`,
          sticky: "none",
          created_at: 1,
          updated_at: 1,
        })
        .execute();
    }
    const { deployment } = await api().getDeployment({ deploymentId: id }, internal());
    expect(deployment).toMatchObject({
      id,
      projectId: ws.projectId,
      workspaceId: ws.workspaceId,
      environmentId: ws.environments.preview,
      status: DeploymentStatus.FAILED,
      errorMessage: "boom",
      failedStep: "readiness",
      gitCommitSha: "abc1234",
      gitBranch: "main",
      gitCommitMessage: "msg",
      gitCommitAuthorHandle: "me",
      gitCommitTimestamp: 1_700_000_000_000n,
      image,
      topology: {
        cpuMillicores: 500,
        memoryMib: 512,
        port: 3000,
        healthCheckPath: "/healthz",
        regions: [{ region: "eu", minInstances: 2, maxInstances: 2 }],
      },
      createdAt: 1_700_000_000_000n,
    });
    expect(deployment!.hostnames).toEqual([`a.example.${id.toLowerCase()}`, `b.example.${id.toLowerCase()}`]);
    expect(deployment!.steps.map((s) => [s.step, s.status, s.errorMessage])).toEqual([
      ["metadata", "completed", ""],
      ["topology", "completed", ""],
      ["readiness", "failed", "it broke"],
    ]);
  });

  it("is invalid_argument without an id, not_found for a missing or foreign one, permission_denied without read_deployment", async () => {
    expect((await failure(api().getDeployment({ deploymentId: "" }, internal()))).code).toBe(Code.InvalidArgument);
    expect((await failure(api().getDeployment({ deploymentId: "d_missing" }, internal()))).code).toBe(Code.NotFound);
    const foreign = await insertDeployment(other.projectId, other.workspaceId, other.environments.preview, 1_700_000_000_001);
    expect((await failure(api().getDeployment({ deploymentId: foreign }, bearer(ws.rootKey)))).code).toBe(Code.NotFound);
    const writer = await createWorkspace(stack.deps.db, ["project.*.create_deployment"]);
    const own = await insertDeployment(writer.projectId, writer.workspaceId, writer.environments.preview, 1_700_000_000_002);
    expect((await failure(api().getDeployment({ deploymentId: own }, bearer(writer.rootKey)))).code).toBe(Code.PermissionDenied);
  });
});

describe("ListDeployments", () => {
  it("lists newest first with opaque keyset pages, by environment, with page size bounds", async () => {
    const w = await createWorkspace(stack.deps.db);
    const ids: string[] = [];
    // Equal created_at for some rows: the id breaks the tie, so pages never skip or repeat.
    for (let i = 0; i < 7; i++)
      ids.push(
        await insertDeployment(
          w.projectId,
          w.workspaceId,
          i % 2 ? w.environments.production : w.environments.preview,
          1_000 + Math.floor(i / 2),
        ),
      );
    const expected = [...ids].sort((a, b) => {
      const ca = 1_000 + Math.floor(ids.indexOf(a) / 2);
      const cb = 1_000 + Math.floor(ids.indexOf(b) / 2);
      return cb - ca || (a < b ? 1 : -1);
    });
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await api().listDeployments({ projectId: w.projectId, pageSize: 3, pageToken }, bearer(w.rootKey));
      expect(page.deployments.length).toBeLessThanOrEqual(3);
      seen.push(...page.deployments.map((d) => d.id));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual(expected);

    const prod = await api().listDeployments({ projectId: w.projectId, environmentSlug: "production" }, internal());
    expect(prod.deployments.map((d) => d.environmentId)).toEqual(Array(3).fill(w.environments.production));
    expect(prod.nextPageToken).toBe("");
    const capped = await api().listDeployments({ projectId: w.projectId, pageSize: 1000 }, internal());
    expect(capped.deployments).toHaveLength(7);

    expect((await failure(api().listDeployments({ projectId: w.projectId, pageSize: -1 }, internal()))).code).toBe(Code.InvalidArgument);
    expect((await failure(api().listDeployments({ projectId: w.projectId, pageToken: "garbage" }, internal()))).code).toBe(
      Code.InvalidArgument,
    );
    const first = await api().listDeployments({ projectId: w.projectId, pageSize: 1 }, internal());
    // A token of one filter is not accepted for another.
    expect(
      (
        await failure(
          api().listDeployments({ projectId: w.projectId, environmentSlug: "preview", pageToken: first.nextPageToken }, internal()),
        )
      ).code,
    ).toBe(Code.InvalidArgument);
    expect((await failure(api().listDeployments({ projectId: "" }, internal()))).code).toBe(Code.InvalidArgument);
    expect((await failure(api().listDeployments({ projectId: w.projectId, environmentSlug: "nope" }, internal()))).code).toBe(
      Code.NotFound,
    );
    expect((await failure(api().listDeployments({ projectId: w.projectId }, bearer(ws.rootKey)))).code).toBe(Code.NotFound);
  });
});

describe("WatchDeployment", () => {
  it("streams the current state, then each step and status change, and ends at a terminal status", async () => {
    const db = stack.deps.db;
    const id = await insertDeployment(ws.projectId, ws.workspaceId, ws.environments.preview, Date.now(), "pending");
    await db
      .insertInto("deployment_steps")
      .values({
        deployment_id: id,
        step: "metadata",
        status: "completed",
        message: "read",
        error_message: null,
        started_at: 1,
        ended_at: 2,
        updated_at: 2,
      })
      .execute();
    const events: WatchDeploymentResponse[] = [];
    const stream = (async () => {
      for await (const e of api().watchDeployment({ deploymentId: id }, internal())) events.push(e);
    })();
    await waitFor("the initial state", () => events.length >= 2);
    expect(events[0]).toMatchObject({ status: DeploymentStatus.PENDING });
    expect(events[0]!.step).toBeUndefined();
    expect(events[1]!.step).toMatchObject({ step: "metadata", status: "completed" });

    await db.updateTable("deployments").set({ status: "deploying", updated_at: Date.now() }).where("id", "=", id).execute();
    await waitFor("the deploying status", () => events.some((e) => e.status === DeploymentStatus.DEPLOYING && !e.step));
    await db
      .insertInto("deployment_steps")
      .values({
        deployment_id: id,
        step: "readiness",
        status: "running",
        message: "waiting",
        error_message: null,
        started_at: 3,
        ended_at: null,
        updated_at: 3,
      })
      .execute();
    await waitFor("the readiness step", () => events.some((e) => e.step?.step === "readiness" && e.step.status === "running"));
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable("deployment_steps")
        .set({ status: "completed", ended_at: 4, updated_at: 4 })
        .where("deployment_id", "=", id)
        .where("step", "=", "readiness")
        .execute();
      await trx.updateTable("deployments").set({ status: "ready", updated_at: Date.now() }).where("id", "=", id).execute();
    });
    await stream; // ends by itself at the terminal status
    const tail = events.slice(-2);
    expect(tail[0]!.step).toMatchObject({ step: "readiness", status: "completed" });
    expect(tail[1]).toMatchObject({ status: DeploymentStatus.READY });
    // Every step change appears exactly once.
    expect(events.filter((e) => e.step?.step === "readiness" && e.step.status === "completed")).toHaveLength(1);
  });

  it("stops when the client cancels, and checks access first", async () => {
    const id = await insertDeployment(ws.projectId, ws.workspaceId, ws.environments.preview, Date.now(), "pending");
    const abort = new AbortController();
    const events: WatchDeploymentResponse[] = [];
    const stream = (async () => {
      for await (const e of api().watchDeployment({ deploymentId: id }, { ...internal(), signal: abort.signal })) events.push(e);
    })();
    await waitFor("the initial state", () => events.length >= 1);
    abort.abort();
    const err = await failure(stream);
    expect(err.code).toBe(Code.Canceled);
    const foreign = await insertDeployment(other.projectId, other.workspaceId, other.environments.preview, Date.now());
    const denied = await failure(
      (async () => {
        for await (const _ of api().watchDeployment({ deploymentId: foreign }, bearer(ws.rootKey))) void _;
      })(),
    );
    expect(denied.code).toBe(Code.NotFound);
  });
});
