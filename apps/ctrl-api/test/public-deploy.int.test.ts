/**
 * `POST /v2/deploy.createDeployment` and `POST /v2/deploy.getDeployment` against real servers.
 * Guarantees: 201 `{deploymentId}` and 200 `{id, status, hostnames?, errorMessage?, steps?}` in the
 * envelope; the same validation as the RPC (one shared function) with `errors[]` naming the body
 * field; 400 for a missing/malformed Authorization header or body, 401 for an unknown key, 403
 * without `create_deployment` / `read_deployment`, 404 for a missing project, environment or
 * deployment and for one of another workspace (the same body either way); a rejected request
 * writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkspace, startDeployStack } from "./fake-agent.js";
import type { TestStack } from "./harness.js";

let stack: TestStack;
let ws: Awaited<ReturnType<typeof createWorkspace>>;
let other: Awaited<ReturnType<typeof createWorkspace>>;

beforeAll(async () => {
  stack = await startDeployStack({ readinessTimeoutMs: 1_500, readinessPollMs: 100 });
  ws = await createWorkspace(stack.deps.db);
  other = await createWorkspace(stack.deps.db);
}, 90_000);
afterAll(async () => stack?.close());

interface Reply {
  status: number;
  body: any;
}

async function post(
  path: "createDeployment" | "getDeployment",
  body: unknown,
  key: string | null = ws.rootKey,
  raw?: string,
): Promise<Reply> {
  const res = await fetch(`${stack.apiUrl}/v2/deploy.${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key !== null ? { authorization: `Bearer ${key}` } : {}) },
    body: raw ?? JSON.stringify(body),
  });
  const reply = { status: res.status, body: JSON.parse(await res.text()) };
  expect(reply.body.meta.requestId).toBeTruthy();
  return reply;
}

const deploymentCount = async () =>
  Number(
    (
      await stack.deps.db
        .selectFrom("deployments")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );
const valid = () => ({ projectId: ws.projectId, branch: "main", environmentSlug: "preview", image: "ghcr.io/acme/api:1" });

describe("POST /v2/deploy.createDeployment", () => {
  it("201 {deploymentId} for an image, and for a build context with git metadata", async () => {
    const a = await post("createDeployment", valid());
    expect(a.status).toBe(201);
    expect(Object.keys(a.body.data)).toEqual(["deploymentId"]);
    expect(a.body.data.deploymentId).toMatch(/^d_/);
    const b = await post("createDeployment", {
      projectId: ws.projectId,
      branch: "feat/x",
      environmentSlug: "production",
      build: { context: `${ws.projectId}/build_abc.tar.gz` },
      gitCommit: {
        commitSha: "0123456789abcdef",
        commitMessage: "fix",
        authorHandle: "me",
        authorAvatarUrl: "https://a/b.png",
        timestamp: Date.now(),
      },
    });
    expect(b.status).toBe(201);
    const row = await stack.deps.db
      .selectFrom("deployments")
      .selectAll()
      .where("id", "=", b.body.data.deploymentId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      environment_id: ws.environments.production,
      source_type: "build_context",
      dockerfile_path: "Dockerfile",
      git_branch: "feat/x",
      git_commit_sha: "0123456789abcdef",
      git_commit_message: "fix",
    });
  });

  it.each([
    ["no source", { image: undefined }, "body.build"],
    ["both sources", { build: { context: "PROJECT/build_x.tar.gz" } }, "body.build"],
    ["a non-image", { image: "NOT AN IMAGE" }, "body.image"],
    ["a context of another project", { image: undefined, build: { context: "proj_x/build_x.tar.gz" } }, "body.build.context"],
    ["a timestamp in seconds", { gitCommit: { timestamp: 1_700_000_000 } }, "body.gitCommit.timestamp"],
    ["a timestamp two hours ahead", { gitCommit: { timestamp: Date.now() + 7_200_000 } }, "body.gitCommit.timestamp"],
    ["a non-integer timestamp", { gitCommit: { timestamp: 1.5e12 + 0.5 } }, "body.gitCommit.timestamp"],
    ["a missing projectId", { projectId: undefined }, "body.projectId"],
    ["an empty projectId", { projectId: "" }, "body.projectId"],
    ["a missing environmentSlug", { environmentSlug: undefined }, "body.environmentSlug"],
    ["a numeric image", { image: 42 }, "body.image"],
  ])("400 with errors[] for %s, writing nothing", async (_name, patch, location) => {
    const before = await deploymentCount();
    const body = JSON.parse(JSON.stringify({ ...valid(), ...patch }).replaceAll("PROJECT", ws.projectId));
    const res = await post("createDeployment", body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ status: 400, title: "Bad Request" });
    expect(res.body.error.errors.map((e: { location: string }) => e.location)).toContain(location);
    expect(await deploymentCount()).toBe(before);
  });

  it("400 for an empty or malformed body and for a missing or malformed Authorization header", async () => {
    expect((await post("createDeployment", undefined, ws.rootKey, "")).status).toBe(400);
    expect((await post("createDeployment", undefined, ws.rootKey, "{not json")).status).toBe(400);
    expect((await post("createDeployment", valid(), null)).status).toBe(400);
    const res = await fetch(`${stack.apiUrl}/v2/deploy.createDeployment`, {
      method: "POST",
      headers: { authorization: "Basic abc" },
      body: JSON.stringify(valid()),
    });
    expect(res.status).toBe(400);
  });

  it("401 for an unknown key, 403 without create_deployment, 404 for missing or foreign projects and environments", async () => {
    const before = await deploymentCount();
    expect((await post("createDeployment", valid(), "ctrl_unknown")).status).toBe(401);
    const reader = await createWorkspace(stack.deps.db, ["project.*.read_deployment"]);
    const forbidden = await post("createDeployment", { ...valid(), projectId: reader.projectId }, reader.rootKey);
    expect(forbidden.status, JSON.stringify(forbidden.body)).toBe(403);
    expect(forbidden.body.error.detail).toContain("create_deployment");
    const missing = await post("createDeployment", { ...valid(), projectId: "proj_missing" });
    const foreign = await post("createDeployment", { ...valid(), projectId: other.projectId });
    expect([missing.status, foreign.status]).toEqual([404, 404]);
    expect(foreign.body.error.detail.replace(other.projectId, "X")).toBe(missing.body.error.detail.replace("proj_missing", "X"));
    expect((await post("createDeployment", { ...valid(), environmentSlug: "staging" })).status).toBe(404);
    expect(await deploymentCount()).toBe(before);
  });
});

describe("POST /v2/deploy.getDeployment", () => {
  it("200 {id, status, steps} for a fresh deployment, with hostnames and errorMessage when present", async () => {
    const created = await post("createDeployment", valid());
    const id = created.body.data.deploymentId as string;
    const got = await post("getDeployment", { deploymentId: id });
    expect(got.status).toBe(200);
    expect(got.body.data.id).toBe(id);
    // Fresh: not failed (with no agent it can fail only after the 1.5 s readiness wait, and an image
    // deploy has no build step that could fail sooner). FAILED here would be a real bug.
    expect(["PENDING", "DEPLOYING"]).toContain(got.body.data.status);

    const db = stack.deps.db;
    await db.updateTable("deployments").set({ status: "failed", error_message: "no agent answered" }).where("id", "=", id).execute();
    await db
      .insertInto("frontline_routes")
      .values({
        id: `route_${id}`,
        workspace_id: ws.workspaceId,
        project_id: ws.projectId,
        environment_id: ws.environments.preview,
        deployment_id: id,
        fully_qualified_domain_name: `${id.toLowerCase()}.example`,
        sticky: "none",
        created_at: 1,
        updated_at: 1,
      })
      .execute();
    const failed = await post("getDeployment", { deploymentId: id });
    expect(failed.body.data).toMatchObject({
      id,
      status: "FAILED",
      errorMessage: "no agent answered",
      hostnames: [`${id.toLowerCase()}.example`],
    });
    for (const step of failed.body.data.steps ?? [])
      expect(step).toEqual(
        expect.objectContaining({ step: expect.any(String), status: expect.any(String), createdAt: expect.any(Number) }),
      );
  });

  it("omits hostnames, errorMessage and steps when there are none", async () => {
    const id = `d_bare${Date.now()}`;
    const now = Date.now();
    await stack.deps.db
      .insertInto("deployments")
      .values({
        id,
        workspace_id: ws.workspaceId,
        project_id: ws.projectId,
        environment_id: ws.environments.preview,
        source_type: "image",
        build_context_path: null,
        dockerfile_path: null,
        image: "nginx",
        build_id: null,
        git_commit_sha: "",
        git_branch: "main",
        git_commit_message: null,
        git_commit_author_handle: null,
        git_commit_author_avatar_url: null,
        git_commit_timestamp: null,
        command: null,
        status: "pending",
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
    const got = await post("getDeployment", { deploymentId: id });
    expect(got.body.data).toEqual({ id, status: "PENDING" });
  });

  it("400 / 401 / 403 / 404 rules", async () => {
    const created = await post("createDeployment", { ...valid(), projectId: other.projectId }, other.rootKey);
    const foreignId = created.body.data.deploymentId as string;
    expect((await post("getDeployment", {})).status).toBe(400);
    expect((await post("getDeployment", { deploymentId: "" })).status).toBe(400);
    expect((await post("getDeployment", { deploymentId: "d_x" }, null)).status).toBe(400);
    expect((await post("getDeployment", { deploymentId: foreignId }, "ctrl_unknown")).status).toBe(401);
    const missing = await post("getDeployment", { deploymentId: "d_missing" });
    const foreign = await post("getDeployment", { deploymentId: foreignId });
    expect([missing.status, foreign.status]).toEqual([404, 404]);
    expect(foreign.body.error.detail.replace(foreignId, "X")).toBe(missing.body.error.detail.replace("d_missing", "X"));
    const writer = await createWorkspace(stack.deps.db, ["project.*.create_deployment"]);
    const own = await post("createDeployment", { ...valid(), projectId: writer.projectId }, writer.rootKey);
    const denied = await post("getDeployment", { deploymentId: own.body.data.deploymentId }, writer.rootKey);
    expect(denied.status).toBe(403);
    expect(denied.body.error.detail).toContain("read_deployment");
  });
});
