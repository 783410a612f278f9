/**
 * Deployment queries against a real database: lookups say "not found" as undefined; the project's
 * list is newest first by (created_at, id), scoped to the project and optionally one environment,
 * and pages by keyset without skipping rows that share a created_at; only still-`pending` rows are
 * swept or failed (a started workflow keeps its status); a terminal status is never left.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  failPendingDeployment,
  findDeploymentById,
  findDeploymentOwner,
  insertDeployment,
  listProjectDeployments,
  listStalePendingDeploymentIds,
  loadDeploymentContext,
  setDeploymentStatus,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedDeployment, seedProject } from "./helpers.js";

let database: TestDatabase;
const p1 = { workspace_id: "ws_1", project_id: "proj_1" };

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  await seedProject(db, {
    workspaceId: "ws_1",
    projectId: "proj_1",
    environmentIds: [
      { id: "env_prod", slug: "production" },
      { id: "env_prev", slug: "preview" },
    ],
  });
  await seedProject(db, { workspaceId: "ws_2", projectId: "proj_2", environmentIds: [{ id: "env_other", slug: "production" }] });
  await seedDeployment(db, { ...p1, id: "d_a", environment_id: "env_prod", created_at: 10 });
  await seedDeployment(db, { ...p1, id: "d_c", environment_id: "env_prev", created_at: 20 });
  await seedDeployment(db, { ...p1, id: "d_b", environment_id: "env_prod", created_at: 20, status: "ready" });
  await seedDeployment(db, { ...p1, id: "d_d", environment_id: "env_prod", created_at: 30, status: "building" });
  await seedDeployment(db, { workspace_id: "ws_2", project_id: "proj_2", id: "d_x", environment_id: "env_other", created_at: 40 });
});

afterAll(async () => {
  await database?.drop();
});

describe("lookups", () => {
  it("finds a deployment, its owner and its context, and undefined for an unknown id", async () => {
    expect((await findDeploymentById(database.db, "d_a"))?.environment_id).toBe("env_prod");
    expect(await findDeploymentOwner(database.db, "d_x")).toEqual({
      id: "d_x",
      project_id: "proj_2",
      workspace_id: "ws_2",
      environment_id: "env_other",
    });
    const context = await loadDeploymentContext(database.db, "d_c");
    expect([context?.project.id, context?.environment.slug, context?.workspace.id]).toEqual(["proj_1", "preview", "ws_1"]);
    expect(await findDeploymentById(database.db, "d_missing")).toBeUndefined();
    expect(await findDeploymentOwner(database.db, "d_missing")).toBeUndefined();
    expect(await loadDeploymentContext(database.db, "d_missing")).toBeUndefined();
  });
});

describe("listProjectDeployments", () => {
  it("lists the project's deployments newest first, ties broken by id, other projects excluded", async () => {
    const rows = await listProjectDeployments(database.db, { projectId: "proj_1", limit: 10 });
    expect(rows.map((r) => r.id)).toEqual(["d_d", "d_c", "d_b", "d_a"]);
  });

  it("filters by environment and pages by (created_at, id) keyset", async () => {
    expect(
      (await listProjectDeployments(database.db, { projectId: "proj_1", environmentId: "env_prod", limit: 10 })).map((r) => r.id),
    ).toEqual(["d_d", "d_b", "d_a"]);
    const page1 = await listProjectDeployments(database.db, { projectId: "proj_1", limit: 2 });
    expect(page1.map((r) => r.id)).toEqual(["d_d", "d_c"]);
    const last = page1.at(-1)!;
    const page2 = await listProjectDeployments(database.db, {
      projectId: "proj_1",
      before: { createdAt: last.created_at, id: last.id },
      limit: 2,
    });
    expect(page2.map((r) => r.id)).toEqual(["d_b", "d_a"]);
    expect(await listProjectDeployments(database.db, { projectId: "proj_missing", limit: 10 })).toEqual([]);
  });
});

describe("pending deployments", () => {
  it("lists pending deployments created before the cutoff, oldest first, up to the limit", async () => {
    expect(await listStalePendingDeploymentIds(database.db, 25, 10)).toEqual(["d_a", "d_c"]);
    expect(await listStalePendingDeploymentIds(database.db, 25, 1)).toEqual(["d_a"]);
    expect(await listStalePendingDeploymentIds(database.db, 10, 10)).toEqual([]);
  });

  it("fails a deployment only while it is pending", async () => {
    await insertDeployment(database.db, {
      ...p1,
      id: "d_new",
      environment_id: "env_prod",
      source_type: "image",
      build_context_path: null,
      dockerfile_path: null,
      image: "img:2",
      build_id: null,
      git_commit_sha: "abc",
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
      cpu_millicores: 100,
      memory_mib: 128,
      replicas: 1,
      port: 8080,
      health_check_path: "/",
      created_at: 50,
      updated_at: 50,
    });
    expect(await failPendingDeployment(database.db, "d_new", { errorMessage: "no workflow", failedStep: "start", now: 60 })).toBe(true);
    expect(await findDeploymentById(database.db, "d_new")).toMatchObject({
      status: "failed",
      error_message: "no workflow",
      failed_step: "start",
      updated_at: 60,
    });
    expect(await failPendingDeployment(database.db, "d_d", { errorMessage: "no workflow", failedStep: "start", now: 60 })).toBe(false);
    expect((await findDeploymentById(database.db, "d_d"))?.status).toBe("building");
  });

  it("never moves a deployment out of a terminal status", async () => {
    expect(await setDeploymentStatus(database.db, "d_b", { status: "deploying" }, 70)).toBe(false);
    expect(await setDeploymentStatus(database.db, "d_d", { status: "deploying", image: "img:9" }, 70)).toBe(true);
    expect(await findDeploymentById(database.db, "d_d")).toMatchObject({ status: "deploying", image: "img:9" });
  });
});
