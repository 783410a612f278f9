/**
 * The agents' sync queries against a real database: streams return rows of one region after a
 * cursor in version order, up to a limit; snapshots hold only running deployments and
 * non-archived sentinels, with the region's highest version; an instance report replaces what the
 * region knew of the deployment (upsert by k8s name, the rest removed, other regions untouched);
 * a sentinel report for an unknown name changes nothing, and failure fields move only when sent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deleteReportedInstances,
  findSentinel,
  findSentinelSyncRow,
  findTopologyRow,
  insertTopologyRow,
  listRunningInstances,
  listSentinelsAfter,
  listTopologyAfter,
  maxSentinelVersion,
  maxTopologyVersion,
  recordSentinelReport,
  replaceReportedInstances,
  snapshotSentinels,
  snapshotTopology,
  type ReportedInstance,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedDeployment, seedProject, seedSentinel } from "./helpers.js";

let database: TestDatabase;
const owner = { workspace_id: "ws_1", project_id: "proj_1", environment_id: "env_1" };

async function topology(id: string, deploymentId: string, region: string, version: number, status: "running" | "stopped" = "running") {
  await insertTopologyRow(database.db, {
    id,
    workspace_id: "ws_1",
    deployment_id: deploymentId,
    region,
    desired_replicas: 1,
    desired_status: status,
    version,
    created_at: 1,
    updated_at: 1,
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  await seedProject(db, { workspaceId: "ws_1", projectId: "proj_1", environmentIds: [{ id: "env_1", slug: "production" }] });
  for (const id of ["d_1", "d_2", "d_3"]) await seedDeployment(db, { ...owner, id, image: `img:${id}` });
  await topology("t_1", "d_1", "r1", 3);
  await topology("t_2", "d_2", "r1", 1, "stopped");
  await topology("t_3", "d_3", "r1", 5);
  await topology("t_4", "d_1", "r2", 2);
  await seedSentinel(db, { id: "se_1", environment_id: "env_1", version: 4 });
  await seedSentinel(db, { id: "se_2", environment_id: "env_2", version: 2, desired_state: "archived" });
  await seedSentinel(db, { id: "se_3", environment_id: "env_1", region: "r2", version: 7 });
});

afterAll(async () => {
  await database?.drop();
});

describe("topology stream", () => {
  it("lists the region's rows after the cursor in version order, up to the limit, with the deployment's fields", async () => {
    const rows = await listTopologyAfter(database.db, "r1", 0, 10);
    expect(rows.map((r) => [r.deploymentId, r.version])).toEqual([
      ["d_2", 1],
      ["d_1", 3],
      ["d_3", 5],
    ]);
    expect(rows[1]).toMatchObject({ region: "r1", projectId: "proj_1", environmentId: "env_1", image: "img:d_1", port: 8080 });
    expect((await listTopologyAfter(database.db, "r1", 1, 1)).map((r) => r.version)).toEqual([3]);
    expect(await listTopologyAfter(database.db, "r1", 5, 10)).toEqual([]);
  });

  it("snapshots only running rows with the region's highest version", async () => {
    const snapshot = await snapshotTopology(database.db, "r1");
    expect(snapshot.version).toBe(5);
    expect(snapshot.rows.map((r) => r.deploymentId)).toEqual(["d_1", "d_3"]);
    expect(await maxTopologyVersion(database.db, "r2")).toBe(2);
    expect(await maxTopologyVersion(database.db, "r9")).toBe(0);
    expect((await findTopologyRow(database.db, "r2", "d_1"))?.version).toBe(2);
    expect(await findTopologyRow(database.db, "r2", "d_3")).toBeUndefined();
  });
});

describe("sentinel stream", () => {
  it("lists after the cursor, snapshots the non-archived ones, finds one by id in any region", async () => {
    expect((await listSentinelsAfter(database.db, "r1", 0, 10)).map((s) => [s.sentinelId, s.version])).toEqual([
      ["se_2", 2],
      ["se_1", 4],
    ]);
    const snapshot = await snapshotSentinels(database.db, "r1");
    expect(snapshot).toMatchObject({ version: 4 });
    expect(snapshot.rows.map((s) => s.sentinelId)).toEqual(["se_1"]);
    expect(await maxSentinelVersion(database.db, "r2")).toBe(7);
    expect((await findSentinelSyncRow(database.db, "se_3"))?.region).toBe("r2");
    expect(await findSentinelSyncRow(database.db, "se_missing")).toBeUndefined();
  });
});

describe("reports", () => {
  const instance = (k8sName: string, address: string, status: ReportedInstance["status"] = "running"): ReportedInstance => ({
    k8sName,
    address,
    cpuMillicores: 100,
    memoryMib: 128,
    status,
    exitCode: null,
    haltIntent: null,
    failureReason: null,
  });
  const d1 = { deploymentId: "d_1", workspaceId: "ws_1", projectId: "proj_1" };

  it("replaces the region's instances of a deployment with the report", async () => {
    await replaceReportedInstances(database.db, d1, "r1", [instance("k-a", "10.0.0.1:20000"), instance("k-b", "10.0.0.2:20000")], 10);
    await replaceReportedInstances(database.db, d1, "r2", [instance("k-z", "10.0.9.9:20000")], 10);
    await replaceReportedInstances(
      database.db,
      d1,
      "r1",
      [instance("k-b", "10.0.0.3:20000"), instance("k-c", "10.0.0.4:20000", "pending")],
      20,
    );
    const rows = await database.db
      .selectFrom("instances")
      .select(["k8s_name", "address", "status", "region"])
      .orderBy("k8s_name")
      .execute();
    expect(rows).toEqual([
      { k8s_name: "k-b", address: "10.0.0.3:20000", status: "running", region: "r1" },
      { k8s_name: "k-c", address: "10.0.0.4:20000", status: "pending", region: "r1" },
      { k8s_name: "k-z", address: "10.0.9.9:20000", status: "running", region: "r2" },
    ]);
    await replaceReportedInstances(database.db, d1, "r1", [], 30);
    expect(await listRunningInstances(database.db, "r1")).toEqual([]);
    expect(await listRunningInstances(database.db, "r2")).toEqual([{ deploymentId: "d_1", address: "10.0.9.9:20000" }]);
    await deleteReportedInstances(database.db, "d_1", "r2");
    expect(await listRunningInstances(database.db, "r2")).toEqual([]);
  });

  it("records a sentinel's report by region and k8s name, failure fields only when sent", async () => {
    const report = { availableReplicas: 1, health: "healthy" as const, runningImage: "img:1", addresses: ["10.0.1.1:20000"] };
    expect(await recordSentinelReport(database.db, "r2", "k-se_1", report, 5)).toBe(false);
    expect(
      await recordSentinelReport(
        database.db,
        "r1",
        "k-se_1",
        { ...report, failure: { reason: "image_pull_failed: nope", image: "img:2" } },
        5,
      ),
    ).toBe(true);
    expect(await findSentinel(database.db, "se_1")).toMatchObject({
      addresses: JSON.stringify(["10.0.1.1:20000"]),
      failure_reason: "image_pull_failed: nope",
      failure_image: "img:2",
      updated_at: 5,
    });
    await recordSentinelReport(database.db, "r1", "k-se_1", { ...report, availableReplicas: 2 }, 6);
    expect(await findSentinel(database.db, "se_1")).toMatchObject({ available_replicas: 2, failure_reason: "image_pull_failed: nope" });
    await recordSentinelReport(database.db, "r1", "k-se_1", { ...report, failure: null }, 7);
    expect(await findSentinel(database.db, "se_1")).toMatchObject({ failure_reason: null, failure_image: null });
  });
});
