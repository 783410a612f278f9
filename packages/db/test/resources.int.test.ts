/**
 * Projects, environments and root keys as resources (issue 15) against a real database: a project
 * comes with `production` and `preview`; slugs are unique per workspace (projects) and per project
 * (environments); what still runs blocks a delete; a revoked or expired key is no longer found.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createEnvironment,
  createProjectWithEnvironments,
  createRootKey,
  deleteEnvironmentRows,
  deleteProjectRows,
  environmentHasRunningDeployments,
  environmentSettingsOf,
  findProjectActivity,
  findProjectById,
  findRootKey,
  findRootKeyById,
  insertTopologyRow,
  listProjectEnvironments,
  listRootKeys,
  listWorkspaceProjects,
  revokeRootKey,
  updateEnvironmentSettings,
  updateProjectSettings,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedDeployment, seedProject } from "./helpers.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedProject(database.db, { workspaceId: "ws_a", projectId: "proj_seed" });
});

afterAll(async () => {
  await database?.drop();
});

const create = (id: string, slug: string, workspaceId = "ws_a") =>
  createProjectWithEnvironments(database.db, {
    id,
    workspaceId,
    name: `Project ${slug}`,
    slug,
    defaultBranch: "main",
    environmentIds: [`env_${id}_p`, `env_${id}_v`],
    now: 10,
  });

describe("projects", () => {
  it("creates a project with production and preview, refusing a duplicate slug in the same workspace only", async () => {
    const created = await create("proj_r1", "shop");
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    expect(created.project).toMatchObject({ id: "proj_r1", workspace_id: "ws_a", slug: "shop", default_branch: "main" });
    expect(created.environments.map((e) => e.slug)).toEqual(["preview", "production"]);
    expect(await create("proj_r2", "shop")).toEqual({ ok: false, reason: "duplicate_slug" });
    expect(await findProjectById(database.db, "proj_r2")).toBeUndefined();
    expect((await create("proj_r3", "shop", "ws_b")).ok).toBe(true);
  });

  it("lists a workspace's projects by slug, page after page", async () => {
    await create("proj_r4", "api");
    const first = await listWorkspaceProjects(database.db, "ws_a", { limit: 2 });
    expect(first.map((p) => p.slug)).toEqual(["api", "proj_seed"]);
    const next = await listWorkspaceProjects(database.db, "ws_a", { limit: 2, afterSlug: "proj_seed" });
    expect(next.map((p) => p.slug)).toEqual(["shop"]);
    expect((await listWorkspaceProjects(database.db, "ws_b", { limit: 10 })).map((p) => p.id)).toEqual(["proj_r3"]);
  });

  it("updates the default branch and name; false for a missing project", async () => {
    expect(await updateProjectSettings(database.db, "proj_r4", { defaultBranch: "trunk" }, 20)).toBe(true);
    expect(await findProjectById(database.db, "proj_r4")).toMatchObject({ default_branch: "trunk", name: "Project api", updated_at: 20 });
    expect(await updateProjectSettings(database.db, "proj_missing", { name: "x" }, 20)).toBe(false);
  });

  it("reports deploys in progress and running topology, then deletes the configuration", async () => {
    await seedDeployment(database.db, {
      id: "d_run",
      workspace_id: "ws_a",
      project_id: "proj_r4",
      environment_id: "env_proj_r4_p",
      status: "building",
    });
    await seedDeployment(database.db, {
      id: "d_ready",
      workspace_id: "ws_a",
      project_id: "proj_r4",
      environment_id: "env_proj_r4_p",
      status: "ready",
    });
    await insertTopologyRow(database.db, {
      id: "top_r1",
      workspace_id: "ws_a",
      deployment_id: "d_ready",
      region: "local",
      desired_replicas: 2,
      desired_status: "running",
      version: 1,
      created_at: 1,
      updated_at: 1,
    });
    expect(await findProjectActivity(database.db, "proj_r4")).toEqual({
      inProgressDeploymentIds: ["d_run"],
      runningTopology: [{ deploymentId: "d_ready", workspaceId: "ws_a", region: "local", desiredReplicas: 2 }],
      activeSentinels: [],
    });
    expect(await environmentHasRunningDeployments(database.db, "env_proj_r4_p")).toBe(true);
    expect(await environmentHasRunningDeployments(database.db, "env_proj_r4_v")).toBe(false);
    expect(await findProjectActivity(database.db, "proj_r1")).toEqual({
      inProgressDeploymentIds: [],
      runningTopology: [],
      activeSentinels: [],
    });

    expect(await deleteProjectRows(database.db, "proj_r4")).toBe(true);
    expect(await findProjectById(database.db, "proj_r4")).toBeUndefined();
    expect(await listProjectEnvironments(database.db, "proj_r4")).toEqual([]);
    // Deployments stay as history.
    expect(await database.db.selectFrom("deployments").select("id").where("project_id", "=", "proj_r4").execute()).toHaveLength(2);
    expect(await deleteProjectRows(database.db, "proj_r4")).toBe(false);
  });
});

describe("environments", () => {
  it("creates, lists, updates and deletes an environment; a duplicate slug in the project is refused", async () => {
    const created = await createEnvironment(database.db, {
      id: "env_r_staging",
      workspaceId: "ws_a",
      projectId: "proj_r1",
      slug: "staging",
      settings: { regions: ["eu", "us"], replicas: 2 },
      now: 5,
    });
    expect(created.ok).toBe(true);
    if (!created.ok) return;
    expect(environmentSettingsOf(created.environment)).toEqual({
      regions: ["eu", "us"],
      replicas: 2,
      cpuMillicores: null,
      memoryMib: null,
      healthCheckPath: null,
    });
    expect(
      await createEnvironment(database.db, {
        id: "env_r_dup",
        workspaceId: "ws_a",
        projectId: "proj_r1",
        slug: "staging",
        settings: {},
        now: 5,
      }),
    ).toEqual({ ok: false, reason: "duplicate_slug" });
    expect((await listProjectEnvironments(database.db, "proj_r1")).map((e) => e.slug)).toEqual(["preview", "production", "staging"]);

    const updated = await updateEnvironmentSettings(
      database.db,
      "env_r_staging",
      { regions: null, cpuMillicores: 500, memoryMib: 256, healthCheckPath: "/healthz" },
      6,
    );
    expect(environmentSettingsOf(updated!)).toEqual({
      regions: null,
      replicas: 2,
      cpuMillicores: 500,
      memoryMib: 256,
      healthCheckPath: "/healthz",
    });

    expect(await deleteEnvironmentRows(database.db, "env_r_staging")).toBe(true);
    expect(await deleteEnvironmentRows(database.db, "env_r_staging")).toBe(false);
  });
});

describe("root keys", () => {
  it("lists keys without their hash, newest first; a revoked or expired key is not found", async () => {
    const a = await createRootKey(database.db, { workspaceId: "ws_k", name: "a", permissions: ["project.*.*"], now: 1 });
    const b = await createRootKey(database.db, { workspaceId: "ws_k", name: "b", permissions: [], now: 2, expiresAt: 100 });
    const listed = await listRootKeys(database.db, "ws_k");
    expect(listed.map((k) => k.id)).toEqual([b.id, a.id]);
    expect(listed[0]).not.toHaveProperty("hash");
    expect(listed[0]).toMatchObject({ name: "b", expires_at: 100, deleted_at: null, start: b.key.slice(0, 9) });

    expect(await findRootKey(database.db, b.key, 99)).toBeDefined();
    expect(await findRootKey(database.db, b.key, 100)).toBeUndefined();

    await revokeRootKey(database.db, a.id, 50);
    await revokeRootKey(database.db, a.id, 60);
    expect(await findRootKey(database.db, a.key, 51)).toBeUndefined();
    expect((await findRootKeyById(database.db, a.id))?.deleted_at).toBe(50);
    expect(await findRootKeyById(database.db, "key_missing")).toBeUndefined();
  });
});
