/**
 * Sentinel queries against a real database: desired state and version are written together; the
 * environment's sentinel is found per region; frontline's list holds every sentinel of the region,
 * any state, and none of other regions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findSentinel, findSentinelOfEnvironment, insertSentinel, listRegionSentinels, updateSentinelDesired } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedProject, seedSentinel } from "./helpers.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedProject(database.db, { workspaceId: "ws_1", projectId: "proj_1", environmentIds: [{ id: "env_1", slug: "production" }] });
});

afterAll(async () => {
  await database?.drop();
});

describe("sentinels", () => {
  it("inserts, finds and updates a sentinel's desired state with its version", async () => {
    await insertSentinel(database.db, {
      id: "se_1",
      workspace_id: "ws_1",
      project_id: "proj_1",
      environment_id: "env_1",
      region: "r1",
      k8s_name: "sentinel-1",
      image: "img:1",
      desired_replicas: 1,
      desired_state: "running",
      cpu_millicores: 100,
      memory_mib: 64,
      health: "unknown",
      available_replicas: 0,
      running_image: null,
      addresses: null,
      version: 3,
      created_at: 1,
      updated_at: 1,
    });
    await updateSentinelDesired(database.db, "se_1", { image: "img:2", desiredReplicas: 2, desiredState: "standby", version: 4, now: 9 });
    expect(await findSentinel(database.db, "se_1")).toMatchObject({
      image: "img:2",
      desired_replicas: 2,
      desired_state: "standby",
      version: 4,
      updated_at: 9,
    });
    expect((await findSentinelOfEnvironment(database.db, "env_1", "r1"))?.id).toBe("se_1");
    expect(await findSentinelOfEnvironment(database.db, "env_1", "r2")).toBeUndefined();
  });

  it("lists every sentinel of the region, any state, and none of other regions", async () => {
    await seedSentinel(database.db, { id: "se_arch", environment_id: "env_x", version: 5, desired_state: "archived" });
    await seedSentinel(database.db, { id: "se_r2", environment_id: "env_1", region: "r2", version: 1 });
    const rows = await listRegionSentinels(database.db, "r1");
    expect(rows.map((r) => r.id).sort()).toEqual(["se_1", "se_arch"]);
    expect(rows.find((r) => r.id === "se_arch")).toEqual({
      id: "se_arch",
      environment_id: "env_x",
      health: "healthy",
      desired_state: "archived",
      addresses: null,
    });
    expect(await listRegionSentinels(database.db, "r9")).toEqual([]);
  });
});
