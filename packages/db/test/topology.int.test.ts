/**
 * Topology, sentinel and step queries against a real database: rows are found per deployment and
 * region (undefined elsewhere) and listed in region order; an update moves desired state and
 * version together; readiness counts instances per region; a region's sentinels are all listed,
 * any state; a step upsert keeps one row per (deployment, step) and its first start, and a start
 * failure keeps an existing step's message.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  findDeploymentTopologyInRegion,
  findSentinel,
  findSentinelOfEnvironment,
  insertSentinel,
  insertTopologyRow,
  listDeploymentSteps,
  listDeploymentTopology,
  listRegionSentinels,
  loadDeploymentReadiness,
  recordFailedStep,
  updateSentinelDesired,
  updateTopologyRow,
  upsertDeploymentStep,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedDeployment, seedInstance, seedProject, seedSentinel } from "./helpers.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  await seedProject(db, { workspaceId: "ws_1", projectId: "proj_1", environmentIds: [{ id: "env_1", slug: "production" }] });
  await seedDeployment(db, { workspace_id: "ws_1", project_id: "proj_1", environment_id: "env_1", id: "d_1" });
  const row = { workspace_id: "ws_1", deployment_id: "d_1", desired_status: "running" as const, created_at: 1, updated_at: 1 };
  await insertTopologyRow(db, { ...row, id: "top_r2", region: "r2", desired_replicas: 1, version: 1 });
  await insertTopologyRow(db, { ...row, id: "top_r1", region: "r1", desired_replicas: 2, version: 1 });
});

afterAll(async () => {
  await database?.drop();
});

describe("topology", () => {
  it("finds a deployment's row per region and lists them in region order", async () => {
    expect(await findDeploymentTopologyInRegion(database.db, "d_1", "r1")).toMatchObject({ id: "top_r1", desired_replicas: 2 });
    expect(await findDeploymentTopologyInRegion(database.db, "d_1", "r9")).toBeUndefined();
    expect(await findDeploymentTopologyInRegion(database.db, "d_missing", "r1")).toBeUndefined();
    expect((await listDeploymentTopology(database.db, "d_1")).map((t) => t.region)).toEqual(["r1", "r2"]);
  });

  it("updates desired state and version together", async () => {
    await updateTopologyRow(database.db, "top_r2", { desiredReplicas: 0, desiredStatus: "stopped", version: 7, now: 5 });
    expect(await findDeploymentTopologyInRegion(database.db, "d_1", "r2")).toMatchObject({
      desired_replicas: 0,
      desired_status: "stopped",
      version: 7,
      updated_at: 5,
    });
    expect((await findDeploymentTopologyInRegion(database.db, "d_1", "r1"))?.version).toBe(1);
  });

  it("compares desired replicas with reported instances per region", async () => {
    await seedInstance(database.db, { id: "ins_1", deployment_id: "d_1", address: "10.0.0.1:20000" });
    await seedInstance(database.db, {
      id: "ins_2",
      deployment_id: "d_1",
      address: "",
      status: "failed",
      exit_code: 3,
      failure_reason: "start_failed",
    });
    const readiness = await loadDeploymentReadiness(database.db, "d_1");
    expect(readiness.regions).toEqual([
      { region: "r1", desiredReplicas: 2, desiredStatus: "running", running: 1, pending: 0, failed: 1 },
      { region: "r2", desiredReplicas: 0, desiredStatus: "stopped", running: 0, pending: 0, failed: 0 },
    ]);
    expect(readiness.failures).toEqual([{ region: "r1", k8sName: "k-ins_2", exitCode: 3, failureReason: "start_failed" }]);
    expect(readiness.runningAddress).toBe("10.0.0.1:20000");
  });
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

describe("steps", () => {
  it("keeps one row per step with its first start, in start order", async () => {
    await upsertDeploymentStep(database.db, { deploymentId: "d_1", step: "build", status: "running", message: "Building", now: 10 });
    await upsertDeploymentStep(database.db, { deploymentId: "d_1", step: "deploy", status: "running", message: "Deploying", now: 20 });
    await upsertDeploymentStep(database.db, { deploymentId: "d_1", step: "build", status: "completed", message: "Built", now: 15 });
    const steps = await listDeploymentSteps(database.db, "d_1");
    expect(steps.map((s) => [s.step, s.status, s.message, s.started_at, s.ended_at])).toEqual([
      ["build", "completed", "Built", 10, 15],
      ["deploy", "running", "Deploying", 20, null],
    ]);
  });

  it("records a failed step, closing an existing one without changing its message or start", async () => {
    await recordFailedStep(database.db, { deploymentId: "d_1", step: "start", message: "Starting", errorMessage: "down", now: 30 });
    await recordFailedStep(database.db, { deploymentId: "d_1", step: "deploy", message: "Other", errorMessage: "gone", now: 40 });
    const steps = await listDeploymentSteps(database.db, "d_1");
    expect(steps.map((s) => [s.step, s.status, s.message, s.error_message, s.started_at, s.ended_at])).toEqual([
      ["build", "completed", "Built", null, 10, 15],
      ["deploy", "failed", "Deploying", "gone", 20, 40],
      ["start", "failed", "Starting", "down", 30, 30],
    ]);
  });
});
