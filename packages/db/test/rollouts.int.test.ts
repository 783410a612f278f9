/**
 * The deployment-rollout queries against a real database: the environment's policy is stored and
 * cleared; a rollout row is created once (a replay keeps the first); progress moves the revision and
 * never the control state; the control state changes only from the state the caller saw; region
 * splits upsert per (environment, region), list per region and clear all or some.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clearRegionSplits,
  compareAndSetControlState,
  createDeploymentRollout,
  findDeploymentRollout,
  listEnvironmentRollouts,
  listRegionSplits,
  readEnvironmentPolicy,
  setRegionSplit,
  writeEnvironmentPolicy,
  writeRolloutProgress,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db
    .insertInto("environments")
    .values({
      id: "env_1",
      workspace_id: "ws_1",
      project_id: "proj_1",
      slug: "production",
      regions: null,
      rollout_policy: null,
      created_at: 0,
      updated_at: 0,
    })
    .execute();
});

afterAll(async () => {
  await database?.drop();
});

const rollout = (deploymentId: string, createdAt: number) => ({
  deployment_id: deploymentId,
  workspace_id: "ws_1",
  project_id: "proj_1",
  environment_id: "env_1",
  previous_deployment_id: "d_old",
  strategy: "rolling",
  state: "pending",
  control_state: "active",
  batches: JSON.stringify([["r1"], ["r2"]]),
  targets: "[]",
  checkpoint: "{}",
  failure_details: "[]",
  last_analysis: null,
  created_at: createdAt,
  updated_at: createdAt,
  finished_at: null,
});

describe("rollout queries", () => {
  it("stores, reads and clears an environment's policy; an unknown environment is undefined", async () => {
    expect(await readEnvironmentPolicy(database.db, "env_1")).toBeNull();
    await writeEnvironmentPolicy(database.db, "env_1", '{"strategy":"canary"}', 5);
    expect(await readEnvironmentPolicy(database.db, "env_1")).toBe('{"strategy":"canary"}');
    await writeEnvironmentPolicy(database.db, "env_1", null, 6);
    expect(await readEnvironmentPolicy(database.db, "env_1")).toBeNull();
    expect(await readEnvironmentPolicy(database.db, "env_missing")).toBeUndefined();
  });

  it("creates a rollout once: a replayed create keeps the first row", async () => {
    const first = await createDeploymentRollout(database.db, rollout("d_1", 10));
    expect(first).toMatchObject({ deployment_id: "d_1", state: "pending", control_state: "active", revision: 1 });
    const again = await createDeploymentRollout(database.db, { ...rollout("d_1", 99), strategy: "canary" });
    expect(again).toMatchObject({ strategy: "rolling", created_at: 10, revision: 1 });
  });

  it("progress moves the revision and leaves the control state alone", async () => {
    await compareAndSetControlState(database.db, "d_1", "active", "paused", 11);
    await writeRolloutProgress(database.db, "d_1", { state: "rolling", checkpoint: '{"batchIndex":1}' }, 12);
    const row = await findDeploymentRollout(database.db, "d_1");
    expect(row).toMatchObject({ state: "rolling", control_state: "paused", checkpoint: '{"batchIndex":1}', revision: 3, updated_at: 12 });
  });

  it("changes the control state only from the state the caller saw", async () => {
    expect(await compareAndSetControlState(database.db, "d_1", "active", "cancel_requested", 13)).toBe(false);
    expect(await compareAndSetControlState(database.db, "d_1", "paused", "active", 14)).toBe(true);
    expect((await findDeploymentRollout(database.db, "d_1"))?.control_state).toBe("active");
    expect(await compareAndSetControlState(database.db, "d_missing", "active", "paused", 15)).toBe(false);
  });

  it("lists an environment's rollouts newest first", async () => {
    await createDeploymentRollout(database.db, rollout("d_2", 20));
    expect((await listEnvironmentRollouts(database.db, "env_1", 10)).map((r) => r.deployment_id)).toEqual(["d_2", "d_1"]);
    expect((await listEnvironmentRollouts(database.db, "env_1", 1)).map((r) => r.deployment_id)).toEqual(["d_2"]);
  });

  it("upserts region splits, lists them per region and clears some or all", async () => {
    const split = { environment_id: "env_1", workspace_id: "ws_1", stable_deployment_id: "d_old", canary_deployment_id: "d_2" };
    await setRegionSplit(database.db, { ...split, region: "r1", canary_weight: 10 }, 30);
    await setRegionSplit(database.db, { ...split, region: "r1", canary_weight: 50 }, 31);
    await setRegionSplit(database.db, { ...split, region: "r2", canary_weight: 100 }, 32);
    expect(await listRegionSplits(database.db, "r1")).toEqual([
      expect.objectContaining({ canary_weight: 50, created_at: 30, updated_at: 31 }),
    ]);
    expect(await listRegionSplits(database.db, "r3")).toEqual([]);
    expect(await clearRegionSplits(database.db, "env_1", ["r2"])).toBe(1);
    expect(await clearRegionSplits(database.db, "env_1", [])).toBe(0);
    expect(await listRegionSplits(database.db, "r2")).toEqual([]);
    expect(await clearRegionSplits(database.db, "env_1")).toBe(1);
    expect(await listRegionSplits(database.db, "r1")).toEqual([]);
  });
});
