/**
 * The halt supervisor's tables against a real database (migration 0012): upgrade plans are
 * append-only with one version per write even when writers race, the latest version wins and a
 * tombstone hides the plan; a halt is recorded once per deployment and reason.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appendUpgradePlan,
  findHalt,
  findUpgradePlan,
  haltsWaitingForPlan,
  insertHaltOnce,
  listUpgradePlans,
  upgradePlanHistory,
  type NewDeploymentHalt,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

let database: TestDatabase;
const scope = { workspaceId: "ws_1", projectId: "proj_1", environmentId: "env_1" };

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.drop());

describe("upgrade_plans", () => {
  it("gives racing writers distinct, consecutive versions; the latest wins", async () => {
    const writes = Array.from({ length: 6 }, (_, i) =>
      appendUpgradePlan(database.db, scope, { name: "race", image: `reg/app:${i}`, minHeight: null, createdBy: "t", now: i }),
    );
    const results = await Promise.allSettled(writes);
    const versions = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.version] : [])).sort((a, b) => a - b);
    expect(versions).toEqual([1, 2, 3, 4, 5, 6]);
    const history = await upgradePlanHistory(database.db, scope.projectId, scope.environmentId, "race");
    expect(history.map((r) => Number(r.version))).toEqual([1, 2, 3, 4, 5, 6]);
    const latest = history.at(-1)!;
    expect(await findUpgradePlan(database.db, scope.projectId, scope.environmentId, "race")).toMatchObject({
      version: 6,
      image: latest.image,
    });
  });

  it("hides a plan behind its tombstone and keeps it in the history", async () => {
    await appendUpgradePlan(database.db, scope, { name: "gone", image: "reg/app:1", minHeight: 10, createdBy: "t", now: 1 });
    await appendUpgradePlan(database.db, scope, { name: "gone", image: null, minHeight: null, createdBy: "t", now: 2 });
    expect(await findUpgradePlan(database.db, scope.projectId, scope.environmentId, "gone")).toBeUndefined();
    expect((await listUpgradePlans(database.db, scope.projectId, scope.environmentId)).map((p) => p.name)).toEqual(["race"]);
    expect(await upgradePlanHistory(database.db, scope.projectId, scope.environmentId, "gone")).toHaveLength(2);
  });
});

describe("deployment_halts", () => {
  const halt: NewDeploymentHalt = {
    deployment_id: "d_1",
    reason: "upgrade_required",
    workspace_id: "ws_1",
    project_id: "proj_1",
    environment_id: "env_1",
    instance: "d_1-local-0",
    exit_code: 70,
    plan_name: "v2",
    height: 1200,
    info: null,
    action: "upgrade",
    state: "waiting_for_plan",
    condition: "image_mapping_missing",
    replaced_by_deployment_id: null,
    message: null,
    paged_at: null,
    resolved_at: null,
    created_at: 1,
    updated_at: 1,
  };

  it("records a halt once per deployment and reason", async () => {
    expect(await insertHaltOnce(database.db, halt)).toBe(true);
    expect(await insertHaltOnce(database.db, { ...halt, instance: "d_1-local-1", state: "acting" })).toBe(false);
    expect(await findHalt(database.db, "d_1", "upgrade_required")).toMatchObject({ instance: "d_1-local-0", state: "waiting_for_plan" });
    expect(await insertHaltOnce(database.db, { ...halt, reason: "binary_too_new", action: "rollback", state: "acting" })).toBe(true);
    expect((await haltsWaitingForPlan(database.db, "proj_1", "env_1", "v2")).map((h) => h.deployment_id)).toEqual(["d_1"]);
    expect(await haltsWaitingForPlan(database.db, "proj_1", "env_1", "v3")).toEqual([]);
  });
});
