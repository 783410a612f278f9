/**
 * Topology queries against a real database: rows are found per deployment and region (undefined
 * elsewhere) and listed in region order; an update moves desired state and version together;
 * readiness counts instances per region.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  findDeploymentTopologyInRegion,
  insertTopologyRow,
  listDeploymentTopology,
  loadDeploymentReadiness,
  updateTopologyRow,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedDeployment, seedInstance, seedProject } from "./helpers.js";

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
    expect(readiness.pendingReasons).toEqual([]);
  });

  it("carries why pending instances are not ready yet (the last health check)", async () => {
    await seedInstance(database.db, {
      id: "ins_3",
      deployment_id: "d_1",
      address: "10.0.0.1:20001",
      status: "pending",
      failure_reason: "health check GET /health on port 20001 (the instance's $PORT): ECONNREFUSED",
    });
    const readiness = await loadDeploymentReadiness(database.db, "d_1");
    expect(readiness.pendingReasons).toEqual([
      { k8sName: "k-ins_3", region: "r1", reason: "health check GET /health on port 20001 (the instance's $PORT): ECONNREFUSED" },
    ]);
  });
});
