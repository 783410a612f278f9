/**
 * Projects, environments and root keys as resources (issue 15), through a real ctrl-api over real
 * HTTP (Connect and /v2), real MariaDB and a real restate-server with the worker in-process.
 * Guarantees: every RPC's happy path; bad input is `invalid_argument` naming the field; a duplicate
 * slug is `already_exists`; another workspace's project or key is `not_found` (never revealed);
 * no key is `unauthenticated`, a key without the permission `permission_denied`; a project that still
 * runs is not deleted unless `force`, which stops it first; a revoked key is refused on its next call.
 */
import { toJson } from "@bufbuild/protobuf";
import { Code, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createRootKey, findDeploymentById, insertTopologyRow, newId } from "@ctrl/db";
import { DeploymentService, EnvironmentService, ListRootKeysResponseSchema, ProjectService, RootKeyService } from "@ctrl/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkspace, failure } from "./fake-agent.js";
import { stackTransport, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
/** A key of the seeded workspace with every permission. */
let admin: string;

const projects = (token = admin) => createClient(ProjectService, stackTransport(stack, token));
const environments = (token = admin): Client<typeof EnvironmentService> => createClient(EnvironmentService, stackTransport(stack, token));
const keys = (token = admin): Client<typeof RootKeyService> => createClient(RootKeyService, stackTransport(stack, token));
/** A client that sends no Authorization header. */
const anonymousProjects = () => createClient(ProjectService, createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" }));

async function keyWith(permissions: string[], workspaceId = stack.seed.workspaceId): Promise<string> {
  return (await createRootKey(stack.database.db, { workspaceId, name: "test", permissions, now: Date.now() })).key;
}

async function v2(endpoint: string, body: unknown, token = admin) {
  const res = await fetch(`${stack.apiUrl}/v2/${endpoint}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; error?: any; meta: { requestId: string } } };
}

beforeAll(async () => {
  stack = await startTestStack();
  admin = await keyWith(["workspace.*", "project.*.*"]);
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe("ProjectService", () => {
  it("creates a project with production and preview, and reads it back", async () => {
    const created = await projects().createProject({ name: "Shop", slug: "shop" });
    expect(created.project).toMatchObject({ name: "Shop", slug: "shop", defaultBranch: "main", workspaceId: stack.seed.workspaceId });
    expect(created.project!.id).toMatch(/^proj_/);
    expect(created.environments.map((e) => e.slug)).toEqual(["preview", "production"]);
    const got = await projects().getProject({ projectId: created.project!.id });
    expect(got.project?.slug).toBe("shop");
    expect(got.environments.map((e) => e.slug)).toEqual(["preview", "production"]);
  });

  it("refuses bad names and slugs with invalid_argument naming the field", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ name: "", slug: "ok" }, "name: is required"],
      [{ name: "x".repeat(256), slug: "ok" }, "name: must be at most 255 characters"],
      [{ name: "App", slug: "" }, "slug: is required"],
      [{ name: "App", slug: "My App" }, "slug: must be lowercase"],
      [{ name: "App", slug: "1app" }, "slug: must be lowercase"],
      [{ name: "App", slug: "a".repeat(49) }, "slug: must be at most 48 characters"],
      [{ name: "App", slug: "app", defaultBranch: "bad..branch" }, "default_branch: is not a valid git branch name"],
    ];
    for (const [input, message] of cases) {
      const err = await failure(projects().createProject(input));
      expect(err.code, JSON.stringify(input)).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toContain(message);
    }
  });

  it("refuses a duplicate slug in the workspace with already_exists; another workspace may use it", async () => {
    await projects().createProject({ name: "Dup", slug: "dup" });
    const err = await failure(projects().createProject({ name: "Dup again", slug: "dup" }));
    expect(err.code).toBe(Code.AlreadyExists);
    expect(err.rawMessage).toContain('a project with slug "dup" already exists');
    const other = await createWorkspace(stack.database.db, ["workspace.create_project"]);
    expect((await projects(other.rootKey).createProject({ name: "Dup", slug: "dup" })).project?.workspaceId).toBe(other.workspaceId);
  });

  it("is unauthenticated without a key and permission_denied without the permission", async () => {
    expect((await failure(anonymousProjects().createProject({ name: "A", slug: "a" }))).code).toBe(Code.Unauthenticated);
    const readOnly = await keyWith(["project.*.read_deployment"]);
    const denied = await failure(projects(readOnly).createProject({ name: "A", slug: "a" }));
    expect(denied.code).toBe(Code.PermissionDenied);
    expect(denied.rawMessage).toContain("workspace.create_project");
    expect((await failure(projects(readOnly).getProject({ projectId: stack.seed.projectId }))).code).toBe(Code.PermissionDenied);
    expect((await failure(projects(readOnly).deleteProject({ projectId: stack.seed.projectId }))).code).toBe(Code.PermissionDenied);
  });

  it("answers not_found for another workspace's project, exactly as for a missing one", async () => {
    const other = await createWorkspace(stack.database.db);
    const foreign = await failure(projects().getProject({ projectId: other.projectId }));
    const missing = await failure(projects().getProject({ projectId: "proj_missing" }));
    expect([foreign.code, missing.code]).toEqual([Code.NotFound, Code.NotFound]);
    expect(foreign.rawMessage).toBe(`project ${other.projectId} not found`);
    expect((await failure(projects().updateProject({ projectId: other.projectId, defaultBranch: "x" }))).code).toBe(Code.NotFound);
    expect((await failure(projects().deleteProject({ projectId: other.projectId }))).code).toBe(Code.NotFound);
    expect((await failure(projects().createProject({ name: "A", slug: "a", workspaceId: other.workspaceId }))).code).toBe(Code.NotFound);
  });

  it("lists the workspace's projects by slug, page by page, and only those the key may read", async () => {
    const all = await projects().listProjects({});
    const slugs = all.projects.map((p) => p.slug);
    expect(slugs).toEqual([...slugs].sort());
    expect(slugs).toContain("shop");
    const first = await projects().listProjects({ pageSize: 1 });
    expect(first.projects).toHaveLength(1);
    expect(first.nextPageToken).not.toBe("");
    const second = await projects().listProjects({ pageSize: 1, pageToken: first.nextPageToken });
    expect(second.projects[0]!.slug > first.projects[0]!.slug).toBe(true);
    const shop = all.projects.find((p) => p.slug === "shop")!;
    const onlyShop = await keyWith([`project.${shop.id}.read_project`]);
    expect((await projects(onlyShop).listProjects({})).projects.map((p) => p.id)).toEqual([shop.id]);
    expect((await failure(projects().listProjects({ pageToken: "garbage!" }))).code).toBe(Code.InvalidArgument);
    expect((await failure(projects().listProjects({ pageSize: 101 }))).code).toBe(Code.InvalidArgument);
  });

  it("updates the default branch and name; a bad branch is invalid_argument", async () => {
    const { project } = await projects().createProject({ name: "Upd", slug: "upd" });
    const updated = await projects().updateProject({ projectId: project!.id, defaultBranch: "trunk" });
    expect(updated.project).toMatchObject({ name: "Upd", defaultBranch: "trunk" });
    expect((await projects().updateProject({ projectId: project!.id, name: "Renamed" })).project).toMatchObject({
      name: "Renamed",
      defaultBranch: "trunk",
    });
    expect((await failure(projects().updateProject({ projectId: project!.id, defaultBranch: "" }))).rawMessage).toBe(
      "default_branch: must not be empty",
    );
  });

  it("refuses to delete a project that still runs (failed_precondition); force stops it first, then deletes", async () => {
    const { project, environments: envs } = await projects().createProject({ name: "Busy", slug: "busy" });
    const production = envs.find((e) => e.slug === "production")!;
    const running = newId("d");
    const building = newId("d");
    const now = Date.now();
    for (const [id, status] of [
      [running, "ready"],
      [building, "building"],
    ] as const)
      await stack.database.db
        .insertInto("deployments")
        .values({
          id,
          workspace_id: stack.seed.workspaceId,
          project_id: project!.id,
          environment_id: production.id,
          source_type: "image",
          build_context_path: null,
          dockerfile_path: null,
          image: "img:1",
          build_id: null,
          git_commit_sha: "",
          git_branch: "main",
          git_commit_message: "",
          git_commit_author_handle: "",
          git_commit_author_avatar_url: "",
          git_commit_timestamp: 0,
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
    await insertTopologyRow(stack.database.db, {
      id: newId("top"),
      workspace_id: stack.seed.workspaceId,
      deployment_id: running,
      region: "resources-test",
      desired_replicas: 1,
      desired_status: "running",
      version: 1,
      created_at: now,
      updated_at: now,
    });
    const sentinelId = newId("se");
    await stack.database.db
      .insertInto("sentinels")
      .values({
        id: sentinelId,
        workspace_id: stack.seed.workspaceId,
        project_id: project!.id,
        environment_id: production.id,
        region: "resources-test",
        k8s_name: `k-${sentinelId}`.toLowerCase(),
        image: "sentinel:1",
        desired_replicas: 1,
        desired_state: "running",
        cpu_millicores: 100,
        memory_mib: 64,
        health: "healthy",
        available_replicas: 1,
        running_image: "sentinel:1",
        addresses: null,
        version: 2,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const refused = await failure(projects().deleteProject({ projectId: project!.id }));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.rawMessage).toContain(`deploys in progress: ${building}`);
    expect(refused.rawMessage).toContain(`running deployments: ${running}`);
    expect((await projects().getProject({ projectId: project!.id })).project?.id).toBe(project!.id);

    const forced = await projects().deleteProject({ projectId: project!.id, force: true });
    expect(forced).toMatchObject({ cancelledDeploymentIds: [building], stoppedDeploymentIds: [running] });
    const topology = await stack.database.db
      .selectFrom("deployment_topology")
      .selectAll()
      .where("deployment_id", "=", running)
      .executeTakeFirstOrThrow();
    expect(topology.desired_status).toBe("stopped");
    expect(Number(topology.version)).toBeGreaterThan(2);
    const sentinel = await stack.database.db.selectFrom("sentinels").selectAll().where("id", "=", sentinelId).executeTakeFirstOrThrow();
    expect(sentinel.desired_state).toBe("archived");
    expect(Number(sentinel.version)).toBeGreaterThan(2);
    expect((await failure(projects().getProject({ projectId: project!.id }))).code).toBe(Code.NotFound);
    // Deployments stay readable as history.
    expect((await findDeploymentById(stack.database.db, running))?.id).toBe(running);
  });

  it("deletes an idle project; its slug can be used again", async () => {
    const { project } = await projects().createProject({ name: "Gone", slug: "gone" });
    expect(await projects().deleteProject({ projectId: project!.id })).toMatchObject({
      cancelledDeploymentIds: [],
      stoppedDeploymentIds: [],
    });
    expect((await projects().createProject({ name: "Gone", slug: "gone" })).project?.slug).toBe("gone");
  });
});

describe("EnvironmentService (CRUD)", () => {
  let projectId: string;
  beforeAll(async () => {
    projectId = (await projects().createProject({ name: "Envs", slug: "envs" })).project!.id;
  });

  it("creates, lists, updates and deletes an environment", async () => {
    const { environment } = await environments().createEnvironment({ projectId, slug: "staging", regions: ["local"], replicas: 2 });
    expect(environment).toMatchObject({ slug: "staging", regions: ["local"], replicas: 2, cpuMillicores: 0, healthCheckPath: "" });
    expect((await environments().listEnvironments({ projectId })).environments.map((e) => e.slug)).toEqual([
      "preview",
      "production",
      "staging",
    ]);
    const updated = await environments().updateEnvironment({
      projectId,
      environmentSlug: "staging",
      regions: { regions: [] },
      cpuMillicores: 500,
      memoryMib: 512,
      healthCheckPath: "/healthz",
    });
    expect(updated.environment).toMatchObject({
      regions: [],
      replicas: 2,
      cpuMillicores: 500,
      memoryMib: 512,
      healthCheckPath: "/healthz",
    });
    await environments().deleteEnvironment({ projectId, environmentSlug: "staging" });
    const gone = await failure(environments().updateEnvironment({ projectId, environmentSlug: "staging", replicas: 1 }));
    expect(gone.code).toBe(Code.NotFound);
    expect(gone.rawMessage).toBe(`environment "staging" not found in project ${projectId} (it has: preview, production)`);
  });

  it("refuses bad input, a duplicate slug and another workspace's project", async () => {
    const bad: [Parameters<Client<typeof EnvironmentService>["createEnvironment"]>[0], string][] = [
      [{ projectId, slug: "" }, "slug: is required"],
      [{ projectId, slug: "Bad_Slug" }, "slug: must be lowercase"],
      [{ projectId, slug: "ok", replicas: 101 }, "replicas: must be a whole number from 0"],
      [{ projectId, slug: "ok", healthCheckPath: "health" }, "health_check_path: must be a path"],
      [{ projectId, slug: "ok", regions: ["a", "a"] }, "regions: must not repeat a region"],
      [{ projectId: "", slug: "ok" }, "project_id: is required"],
    ];
    for (const [input, message] of bad) {
      const err = await failure(environments().createEnvironment(input));
      expect(err.code, JSON.stringify(input)).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toContain(message);
    }
    const dup = await failure(environments().createEnvironment({ projectId, slug: "production" }));
    expect(dup.code).toBe(Code.AlreadyExists);
    const other = await createWorkspace(stack.database.db);
    expect((await failure(environments().listEnvironments({ projectId: other.projectId }))).code).toBe(Code.NotFound);
    const readOnly = await keyWith([`project.${projectId}.read_environment`]);
    expect((await environments(readOnly).listEnvironments({ projectId })).environments).toHaveLength(2);
    expect((await failure(environments(readOnly).createEnvironment({ projectId, slug: "x" }))).code).toBe(Code.PermissionDenied);
  });

  it("new deployments copy the environment's settings", async () => {
    await environments().updateEnvironment({
      projectId,
      environmentSlug: "preview",
      replicas: 3,
      cpuMillicores: 1000,
      memoryMib: 1024,
      healthCheckPath: "/ready",
    });
    const deployments = createClient(DeploymentService, stackTransport(stack, admin));
    const { deploymentId } = await deployments.createDeployment({
      projectId,
      environmentSlug: "preview",
      branch: "feature",
      source: { case: "dockerImage", value: "ghcr.io/acme/app:1" },
    });
    expect(await findDeploymentById(stack.database.db, deploymentId)).toMatchObject({
      replicas: 3,
      cpu_millicores: 1000,
      memory_mib: 1024,
      health_check_path: "/ready",
    });
    // Still running: the environment cannot be deleted.
    const refused = await failure(environments().deleteEnvironment({ projectId, environmentSlug: "preview" }));
    expect(refused.code).toBe(Code.FailedPrecondition);
  });
});

describe("RootKeyService", () => {
  it("creates a key whose secret works once shown, lists keys without secrets, and a revoked key is refused at once", async () => {
    const created = await keys().createRootKey({ name: "ci", permissions: ["project.*.read_project"] });
    expect(created.secret).toMatch(/^ctrl_/);
    expect(created.key).toMatchObject({ name: "ci", permissions: ["project.*.read_project"], expiresAt: 0n, revokedAt: 0n });
    expect(created.secret.startsWith(created.key!.start)).toBe(true);
    expect((await projects(created.secret).listProjects({})).projects.length).toBeGreaterThan(0);

    const listed = await keys().listRootKeys({});
    const row = listed.keys.find((k) => k.id === created.key!.id)!;
    expect(row.name).toBe("ci");
    expect(JSON.stringify(toJson(ListRootKeysResponseSchema, listed))).not.toContain(created.secret.slice(9));

    const revoked = await keys().revokeRootKey({ keyId: created.key!.id });
    expect(revoked.key!.revokedAt).toBeGreaterThan(0n);
    expect((await failure(projects(created.secret).listProjects({}))).code).toBe(Code.Unauthenticated);
    const http = await v2("projects.listProjects", {}, created.secret);
    expect(http.status).toBe(401);
    // Idempotent.
    expect((await keys().revokeRootKey({ keyId: created.key!.id })).key!.revokedAt).toBe(revoked.key!.revokedAt);
  });

  it("honours an expiry, refuses one in the past and permissions the caller does not hold", async () => {
    const soon = Date.now() + 60_000;
    expect(
      (await keys().createRootKey({ name: "short", permissions: ["project.*.read_project"], expiresAt: BigInt(soon) })).key?.expiresAt,
    ).toBe(BigInt(soon));
    expect((await failure(keys().createRootKey({ name: "old", permissions: ["project.*.*"], expiresAt: 1n }))).rawMessage).toBe(
      "expires_at: must be in the future",
    );
    expect((await failure(keys().createRootKey({ name: "none", permissions: [] }))).code).toBe(Code.InvalidArgument);
    expect((await failure(keys().createRootKey({ name: "bad", permissions: ["project.*"] }))).rawMessage).toContain("is not a permission");
    expect((await failure(keys().createRootKey({ name: "", permissions: ["project.*.*"] }))).rawMessage).toBe("name: is required");
    const limited = await keyWith(["workspace.manage_keys", "project.proj_x.read_project"]);
    const escalation = await failure(keys(limited).createRootKey({ name: "wider", permissions: ["project.*.*"] }));
    expect(escalation.code).toBe(Code.PermissionDenied);
    expect(escalation.rawMessage).toContain("it lacks project.*.*");
    expect((await keys(limited).createRootKey({ name: "same", permissions: ["project.proj_x.read_project"] })).secret).toMatch(/^ctrl_/);
  });

  it("needs workspace.manage_keys and never reveals another workspace's key", async () => {
    const noKeys = await keyWith(["project.*.*"]);
    expect((await failure(keys(noKeys).listRootKeys({}))).code).toBe(Code.PermissionDenied);
    const other = await createWorkspace(stack.database.db);
    const otherKeyId = (await keys(await keyWith(["workspace.manage_keys"], other.workspaceId)).listRootKeys({})).keys[0]!.id;
    const foreign = await failure(keys().revokeRootKey({ keyId: otherKeyId }));
    expect(foreign.code).toBe(Code.NotFound);
    expect(foreign.rawMessage).toBe(`root key ${otherKeyId} not found`);
    expect((await failure(keys().revokeRootKey({ keyId: "key_missing" }))).rawMessage).toBe("root key key_missing not found");
    expect((await failure(keys().listRootKeys({ workspaceId: other.workspaceId }))).code).toBe(Code.NotFound);
  });

  it("lets the operator act on a workspace it names", async () => {
    const created = await keys(stack.operatorToken).createRootKey({
      name: "by operator",
      permissions: ["project.*.*"],
      workspaceId: stack.seed.workspaceId,
    });
    expect(created.key?.workspaceId).toBe(stack.seed.workspaceId);
    expect((await failure(keys(stack.operatorToken).listRootKeys({}))).rawMessage).toBe(
      "workspace_id: is required with the operator token",
    );
  });
});

describe("authentication and permissions of every method", () => {
  it("refuses every method without a key (unauthenticated) and with a key lacking its permission (permission_denied)", async () => {
    const transport = createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" });
    const anonymous = {
      projects: createClient(ProjectService, transport),
      environments: createClient(EnvironmentService, transport),
      keys: createClient(RootKeyService, transport),
    };
    const weak = await keyWith(["project.*.read_deployment"]);
    const denied = { projects: projects(weak), environments: environments(weak), keys: keys(weak) };
    const projectId = stack.seed.projectId;
    const calls = (c: typeof anonymous): [string, () => Promise<unknown>][] => [
      ["CreateProject", () => c.projects.createProject({ name: "A", slug: "auth-a" })],
      ["GetProject", () => c.projects.getProject({ projectId })],
      ["UpdateProject", () => c.projects.updateProject({ projectId, name: "x" })],
      ["DeleteProject", () => c.projects.deleteProject({ projectId })],
      ["CreateEnvironment", () => c.environments.createEnvironment({ projectId, slug: "auth-env" })],
      ["ListEnvironments", () => c.environments.listEnvironments({ projectId })],
      ["UpdateEnvironment", () => c.environments.updateEnvironment({ projectId, environmentSlug: "preview", replicas: 1 })],
      ["DeleteEnvironment", () => c.environments.deleteEnvironment({ projectId, environmentSlug: "preview" })],
      ["CreateRootKey", () => c.keys.createRootKey({ name: "k", permissions: ["project.*.read_deployment"] })],
      ["ListRootKeys", () => c.keys.listRootKeys({})],
      ["RevokeRootKey", () => c.keys.revokeRootKey({ keyId: "key_x" })],
    ];
    for (const [name, call] of calls(anonymous)) expect((await failure(call())).code, name).toBe(Code.Unauthenticated);
    expect((await failure(anonymous.projects.listProjects({}))).code).toBe(Code.Unauthenticated);
    for (const [name, call] of calls(denied)) expect((await failure(call())).code, name).toBe(Code.PermissionDenied);
    // ListProjects with no readable project is an empty list, not a refusal.
    expect((await denied.projects.listProjects({})).projects).toEqual([]);
  });
});

describe("/v2 projects, environments and keys", () => {
  it("creates, gets, lists, updates and deletes a project in the envelope", async () => {
    const created = await v2("projects.createProject", { name: "Web", slug: "web", defaultBranch: "main" });
    expect(created.status).toBe(201);
    expect(created.body.meta.requestId).toBeTruthy();
    const id = created.body.data.project.id as string;
    expect(created.body.data.project).toMatchObject({ slug: "web", defaultBranch: "main", liveDeploymentId: "", isRolledBack: false });
    expect(typeof created.body.data.project.createdAt).toBe("number");
    expect(created.body.data.environments.map((e: { slug: string }) => e.slug)).toEqual(["preview", "production"]);
    expect((await v2("projects.getProject", { projectId: id })).body.data.project.id).toBe(id);
    expect((await v2("projects.listProjects", {})).body.data.projects.map((p: { slug: string }) => p.slug)).toContain("web");
    expect((await v2("projects.updateProject", { projectId: id, defaultBranch: "develop" })).body.data.project.defaultBranch).toBe(
      "develop",
    );
    expect(await v2("projects.deleteProject", { projectId: id })).toMatchObject({
      status: 200,
      body: { data: { cancelledDeploymentIds: [], stoppedDeploymentIds: [] } },
    });
    expect((await v2("projects.getProject", { projectId: id })).status).toBe(404);
  });

  it("answers bad input with 400 and errors[] pointing at the field; 401, 403, 404 and 409 as documented", async () => {
    const badSlug = await v2("projects.createProject", { name: "X", slug: "Not OK" });
    expect(badSlug.status).toBe(400);
    expect(badSlug.body.error.errors).toEqual([{ location: "body.slug", message: expect.stringContaining("must be lowercase") }]);
    const wrongType = await v2("projects.createProject", { name: 5, slug: "x" });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.errors[0].location).toBe("body.name");
    expect((await v2("projects.createProject", "")).status).toBe(400);
    expect((await v2("projects.createProject", "{not json")).status).toBe(400);
    expect((await v2("projects.createProject", { name: "X", slug: "x".repeat(49) })).body.error.errors[0]).toEqual({
      location: "body.slug",
      message: "must be at most 48 characters",
    });
    expect((await v2("projects.createProject", { name: "X", slug: "x" }, "ctrl_unknown")).status).toBe(401);
    expect((await v2("projects.createProject", { name: "X", slug: "x" }, await keyWith(["project.*.*"]))).status).toBe(403);
    const other = await createWorkspace(stack.database.db);
    const foreign = await v2("projects.getProject", { projectId: other.projectId });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.detail).toBe(`project ${other.projectId} not found`);
    await v2("projects.createProject", { name: "Twice", slug: "twice" });
    const dup = await v2("projects.createProject", { name: "Twice", slug: "twice" });
    expect(dup.status).toBe(409);
    expect(dup.body.error.type).toBe("https://ctrl.dev/docs/errors/conflict");
  });

  it("manages environments and keys", async () => {
    const projectId = (await v2("projects.createProject", { name: "E", slug: "v2-envs" })).body.data.project.id as string;
    const env = await v2("environments.createEnvironment", { projectId, slug: "qa", replicas: 2 });
    expect(env.status).toBe(201);
    expect(env.body.data.environment).toMatchObject({ slug: "qa", replicas: 2, regions: [] });
    expect((await v2("environments.listEnvironments", { projectId })).body.data.environments).toHaveLength(3);
    expect(
      (await v2("environments.updateEnvironment", { projectId, environmentSlug: "qa", memoryMib: 128 })).body.data.environment.memoryMib,
    ).toBe(128);
    expect((await v2("environments.updateEnvironment", { projectId, environmentSlug: "qa", replicas: -1 })).body.error.errors).toEqual([
      { location: "body.replicas", message: expect.stringContaining("whole number") },
    ]);
    expect(await v2("environments.deleteEnvironment", { projectId, environmentSlug: "qa" })).toMatchObject({
      status: 200,
      body: { data: {} },
    });
    expect((await v2("environments.createEnvironment", { projectId, slug: "production" })).status).toBe(409);

    const key = await v2("keys.createRootKey", { name: "deployer", permissions: [`project.${projectId}.create_deployment`] });
    expect(key.status).toBe(201);
    expect(key.body.data.secret).toMatch(/^ctrl_/);
    expect(key.body.data.key).toMatchObject({ name: "deployer", expiresAt: 0, revokedAt: 0 });
    const listed = await v2("keys.listRootKeys", {});
    expect(JSON.stringify(listed.body.data)).not.toContain(key.body.data.secret);
    expect(listed.body.data.keys.some((k: { id: string }) => k.id === key.body.data.key.id)).toBe(true);
    expect((await v2("keys.revokeRootKey", { keyId: key.body.data.key.id })).body.data.key.revokedAt).toBeGreaterThan(0);
    expect((await v2("environments.listEnvironments", { projectId }, key.body.data.secret)).status).toBe(401);
    expect((await v2("keys.createRootKey", { name: "x", permissions: "project.*.*" })).body.error.errors[0].location).toBe(
      "body.permissions",
    );
  });
});
