/**
 * The queries a running rollout and an emergency rollback use, against a real database: the
 * deployment an environment serves is its `environment` route's; a progress write and a split move
 * are refused once the rollout finished (an emergency rollback won); ending an environment's
 * rollouts marks the region-by-region ones rolled back and removes every split in one go; agents and
 * sentinel addresses are found per region.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  advanceRollout,
  createDeploymentRollout,
  endEnvironmentRollouts,
  findDeploymentRollout,
  findServingDeployment,
  hasAgentInRegion,
  listRegionSplits,
  listSentinelAddresses,
  listSplitsOfCanary,
  setRolloutSplit,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

const rollout = (deploymentId: string, strategy: string, previous: string | null) => ({
  deployment_id: deploymentId,
  workspace_id: "ws_1",
  project_id: "proj_1",
  environment_id: "env_1",
  previous_deployment_id: previous,
  strategy,
  state: "rolling",
  control_state: "active",
  batches: JSON.stringify([["r1"], ["r2"]]),
  targets: JSON.stringify([
    { region: "r1", state: "cut_over", weight: 100, startedAt: 1, cutOverAt: 2 },
    { region: "r2", state: "pending", weight: 0, startedAt: null, cutOverAt: null },
  ]),
  checkpoint: "{}",
  failure_details: "[]",
  last_analysis: null,
  created_at: 1,
  updated_at: 1,
  finished_at: null,
});

const split = (region: string, weight: number) => ({
  environment_id: "env_1",
  region,
  workspace_id: "ws_1",
  stable_deployment_id: "d_old",
  canary_weight: weight,
});

describe("rollout engine queries", () => {
  it("finds the deployment the environment's shared hostname serves", async () => {
    expect(await findServingDeployment(database.db, "env_1")).toBeNull();
    for (const [id, sticky, deployment] of [
      ["r_1", "environment", "d_old"],
      ["r_2", "none", "d_other"],
    ] as const) {
      await database.db
        .insertInto("frontline_routes")
        .values({
          id,
          workspace_id: "ws_1",
          project_id: "proj_1",
          environment_id: "env_1",
          deployment_id: deployment,
          fully_qualified_domain_name: `${id}.example`,
          sticky,
          created_at: 1,
          updated_at: 1,
        })
        .execute();
    }
    expect(await findServingDeployment(database.db, "env_1")).toBe("d_old");
  });

  it("knows which regions have an agent and where the environment's sentinels answer", async () => {
    await database.db
      .insertInto("agent_credentials")
      .values({
        id: "ag_1",
        name: "a",
        region: "r1",
        token_sha256: "x",
        advertise_hosts: "[]",
        port_min: 1,
        port_max: 2,
        created_at: 1,
        revoked_at: null,
      })
      .execute();
    await database.db
      .insertInto("agent_credentials")
      .values({
        id: "ag_2",
        name: "b",
        region: "r2",
        token_sha256: "y",
        advertise_hosts: "[]",
        port_min: 1,
        port_max: 2,
        created_at: 1,
        revoked_at: 5,
      })
      .execute();
    expect(await hasAgentInRegion(database.db, "r1")).toBe(true);
    expect(await hasAgentInRegion(database.db, "r2")).toBe(false);
    expect(await hasAgentInRegion(database.db, "r3")).toBe(false);
    await database.db
      .insertInto("sentinels")
      .values({
        id: "se_1",
        workspace_id: "ws_1",
        project_id: "proj_1",
        environment_id: "env_1",
        region: "r1",
        k8s_name: "sentinel-1",
        image: "sentinel:1",
        desired_replicas: 1,
        desired_state: "running",
        cpu_millicores: 1,
        memory_mib: 1,
        health: "healthy",
        available_replicas: 1,
        running_image: "sentinel:1",
        addresses: JSON.stringify(["127.0.0.1:1", "127.0.0.1:2"]),
        version: 1,
        deploy_status: null,
        deploy_awakeable_id: null,
        deploy_image: null,
        failure_reason: null,
        failure_image: null,
        created_at: 1,
        updated_at: 1,
      })
      .execute();
    expect(await listSentinelAddresses(database.db, "env_1", "r1")).toEqual(["127.0.0.1:1", "127.0.0.1:2"]);
    expect(await listSentinelAddresses(database.db, "env_1", "r2")).toEqual([]);
  });

  it("writes progress and moves splits only while the rollout runs; an emergency end wins", async () => {
    await createDeploymentRollout(database.db, rollout("d_new", "rolling", "d_old"));
    await createDeploymentRollout(database.db, rollout("d_blue", "blue_green", "d_old"));
    expect(await setRolloutSplit(database.db, "d_new", split("r1", 100), 2)).toBe(true);
    expect(await setRolloutSplit(database.db, "d_new", split("r2", 10), 3)).toBe(true);
    expect((await listSplitsOfCanary(database.db, "d_new")).map((s) => [s.region, s.canary_weight])).toEqual([
      ["r1", 100],
      ["r2", 10],
    ]);
    expect(await advanceRollout(database.db, "d_new", { state: "rolling", checkpoint: '{"batchIndex":1}' }, 4)).toBe(true);

    const detail = { target: "*", kind: "cancelled", message: "emergency rollback", observed: {} };
    expect(await endEnvironmentRollouts(database.db, "env_1", detail, 5)).toEqual(["d_new"]);
    const ended = await findDeploymentRollout(database.db, "d_new");
    expect(ended).toMatchObject({ state: "rolled_back", finished_at: 5 });
    expect(JSON.parse(ended?.failure_details ?? "[]")).toEqual([detail]);
    expect(JSON.parse(ended?.targets ?? "[]").map((t: { state: string }) => t.state)).toEqual(["rolled_back", "pending"]);
    expect(await listRegionSplits(database.db, "r1")).toEqual([]);
    // A one-switch rollout has taken no traffic yet; the rollback's pin handles it.
    expect((await findDeploymentRollout(database.db, "d_blue"))?.state).toBe("rolling");

    expect(await advanceRollout(database.db, "d_new", { state: "rolling" }, 6)).toBe(false);
    expect(await setRolloutSplit(database.db, "d_new", split("r2", 50), 7)).toBe(false);
    expect(await listRegionSplits(database.db, "r2")).toEqual([]);
    expect((await findDeploymentRollout(database.db, "d_new"))?.state).toBe("rolled_back");
  });
});
