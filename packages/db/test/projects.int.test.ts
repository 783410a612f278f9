/**
 * Project and environment queries against a real database: unknown ids are undefined;
 * the rolled-back pin comes back as a boolean; environment slugs are scoped to their project.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findEnvironmentBySlug, findProjectById, findProjectPointer, setProjectLive } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedProject } from "./helpers.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedProject(database.db, { workspaceId: "ws_1", projectId: "proj_1", environmentIds: [{ id: "env_1", slug: "production" }] });
  await seedProject(database.db, { workspaceId: "ws_2", projectId: "proj_2", environmentIds: [{ id: "env_2", slug: "preview" }] });
});

afterAll(async () => {
  await database?.drop();
});

describe("projects", () => {
  it("finds a project by id, undefined when unknown", async () => {
    expect(await findProjectById(database.db, "proj_1")).toMatchObject({ id: "proj_1", workspace_id: "ws_1", default_branch: "main" });
    expect(await findProjectById(database.db, "proj_missing")).toBeUndefined();
  });

  it("reads the live pointer and pin with the pin as a boolean", async () => {
    expect(await findProjectPointer(database.db, "proj_1")).toEqual({
      id: "proj_1",
      workspaceId: "ws_1",
      liveDeploymentId: null,
      isRolledBack: false,
    });
    await setProjectLive(database.db, "proj_1", { liveDeploymentId: "d_1", isRolledBack: true }, 5);
    expect(await findProjectPointer(database.db, "proj_1")).toMatchObject({ liveDeploymentId: "d_1", isRolledBack: true });
    expect(await findProjectPointer(database.db, "proj_missing")).toBeUndefined();
  });

  it("finds an environment by slug within its project only", async () => {
    expect((await findEnvironmentBySlug(database.db, "proj_1", "production"))?.id).toBe("env_1");
    expect(await findEnvironmentBySlug(database.db, "proj_1", "preview")).toBeUndefined();
    expect(await findEnvironmentBySlug(database.db, "proj_2", "production")).toBeUndefined();
  });
});
