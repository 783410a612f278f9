/**
 * The edges' instance queries against a real database: only `running` instances of the asked
 * region are listed, in instance-id order; an environment filter keeps other environments'
 * deployments out (a sentinel must not reach them); the checksums move when a row changes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listRunningInstances, readEnvironmentInstancesFingerprint, readRegionFingerprints } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedDeployment, seedInstance, seedProject, seedSentinel } from "./helpers.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  await seedProject(db, {
    workspaceId: "ws_1",
    projectId: "proj_1",
    environmentIds: [
      { id: "env_a", slug: "production" },
      { id: "env_b", slug: "preview" },
    ],
  });
  const owner = { workspace_id: "ws_1", project_id: "proj_1" };
  await seedDeployment(db, { ...owner, id: "d_a", environment_id: "env_a" });
  await seedDeployment(db, { ...owner, id: "d_b", environment_id: "env_b" });
  await seedInstance(db, { id: "ins_3", deployment_id: "d_a", address: "10.0.0.3:20000" });
  await seedInstance(db, { id: "ins_1", deployment_id: "d_a", address: "10.0.0.1:20000" });
  await seedInstance(db, { id: "ins_2", deployment_id: "d_b", address: "10.0.0.2:20000" });
  await seedInstance(db, { id: "ins_4", deployment_id: "d_a", address: "10.0.0.4:20000", status: "pending" });
  await seedInstance(db, { id: "ins_5", deployment_id: "d_a", address: "10.0.0.5:20000", status: "failed" });
  await seedInstance(db, { id: "ins_6", deployment_id: "d_a", address: "10.0.0.6:20000", region: "r2" });
  await seedSentinel(db, { id: "se_a", environment_id: "env_a", version: 1 });
});

afterAll(async () => {
  await database?.drop();
});

describe("listRunningInstances", () => {
  it("lists the region's running instances of every deployment, ordered by instance id", async () => {
    expect(await listRunningInstances(database.db, "r1")).toEqual([
      { deploymentId: "d_a", address: "10.0.0.1:20000" },
      { deploymentId: "d_b", address: "10.0.0.2:20000" },
      { deploymentId: "d_a", address: "10.0.0.3:20000" },
    ]);
  });

  it("keeps other environments' deployments out when scoped to an environment", async () => {
    expect(await listRunningInstances(database.db, "r1", "env_a")).toEqual([
      { deploymentId: "d_a", address: "10.0.0.1:20000" },
      { deploymentId: "d_a", address: "10.0.0.3:20000" },
    ]);
    expect(await listRunningInstances(database.db, "r2", "env_b")).toEqual([]);
  });

  it("lists nothing for a region without instances", async () => {
    expect(await listRunningInstances(database.db, "r9")).toEqual([]);
  });
});

describe("instance checksums", () => {
  it("moves the environment's checksum when one of its instances changes, and not for another environment's", async () => {
    const before = await readEnvironmentInstancesFingerprint(database.db, "env_a", "r1");
    const other = await readEnvironmentInstancesFingerprint(database.db, "env_b", "r1");
    expect(before).toMatch(/^4:\d+$/); // running, pending and failed rows all count
    await database.db.updateTable("instances").set({ status: "failed", updated_at: 2 }).where("id", "=", "ins_3").execute();
    expect(await readEnvironmentInstancesFingerprint(database.db, "env_a", "r1")).not.toBe(before);
    expect(await readEnvironmentInstancesFingerprint(database.db, "env_b", "r1")).toBe(other);
    expect(await readEnvironmentInstancesFingerprint(database.db, "env_a", "r9")).toBe("0:0");
  });

  it("reads the region's instance and sentinel checksums apart", async () => {
    const before = await readRegionFingerprints(database.db, "r1");
    expect(before.instances).toMatch(/^5:\d+$/);
    expect(before.sentinels).toMatch(/^1:\d+$/);
    await database.db.updateTable("sentinels").set({ health: "unhealthy", updated_at: 3 }).where("id", "=", "se_a").execute();
    const after = await readRegionFingerprints(database.db, "r1");
    expect(after.instances).toBe(before.instances);
    expect(after.sentinels).not.toBe(before.sentinels);
    expect(await readRegionFingerprints(database.db, "r9")).toEqual({ instances: "0:0", sentinels: "0:0", splits: "0:0" });
  });
});
