/**
 * The fleet-rollout queries against a real database: targets are every non-archived sentinel in a
 * stable order; the mirror upserts (a replayed write leaves the same rows, the revision moves);
 * a deploy's awakeable is only cleared while it is still the armed one; failure texts parse.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  armSentinelDeploy,
  clearSentinelDeployWait,
  findRollout,
  findSentinel,
  findSentinelDeployWait,
  finishSentinelDeploy,
  latestRollout,
  listRolloutCandidates,
  listRollouts,
  listRolloutTargets,
  parseSentinelFailure,
  writeRolloutMirror,
  type RolloutMirror,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

let database: TestDatabase;

let version = 0;
async function sentinel(id: string, region: string, env: string, state: "running" | "archived" = "running") {
  version++;
  await database.db
    .insertInto("sentinels")
    .values({
      id,
      workspace_id: "ws_1",
      project_id: "proj_1",
      environment_id: env,
      region,
      k8s_name: `k-${id}`,
      image: "img:1",
      desired_replicas: 1,
      desired_state: state,
      cpu_millicores: 1,
      memory_mib: 1,
      health: "unknown",
      available_replicas: 0,
      running_image: null,
      addresses: null,
      version,
      created_at: 0,
      updated_at: 0,
    })
    .execute();
}

beforeAll(async () => {
  database = await createTestDatabase();
  await sentinel("se_c", "r2", "env_a");
  await sentinel("se_a", "r1", "env_b");
  await sentinel("se_b", "r1", "env_a");
  await sentinel("se_x", "r1", "env_c", "archived");
});

afterAll(async () => {
  await database?.drop();
});

describe("fleet rollout queries", () => {
  it("targets every non-archived sentinel ordered by region, environment, id", async () => {
    expect((await listRolloutCandidates(database.db)).map((c) => c.sentinelId)).toEqual(["se_b", "se_a", "se_c"]);
  });

  it("mirrors a rollout idempotently, bumping the revision and updating target outcomes", async () => {
    const base: RolloutMirror = {
      id: "ro_1",
      state: "in_progress",
      image: "img:2",
      wavePercentages: [50, 100],
      currentWave: 0,
      totalTargets: 2,
      succeeded: 0,
      failed: 0,
      createdBy: "operator",
      stateJson: "{}",
      startedAt: 10,
      finishedAt: null,
      updatedAt: 10,
    };
    const target = {
      sentinelId: "se_b",
      position: 0,
      wave: 0,
      region: "r1",
      environmentId: "env_a",
      previousImage: "img:1",
      outcome: "deploying" as const,
      reason: null,
      updatedAt: 10,
    };
    await writeRolloutMirror(database.db, base, [target, { ...target, sentinelId: "se_a", position: 1, wave: 1, outcome: "pending" }]);
    await writeRolloutMirror(database.db, { ...base, state: "paused", failed: 1, updatedAt: 20 }, [
      { ...target, outcome: "failed", reason: "start_failed: exited with code 3", updatedAt: 20 },
    ]);
    const row = await findRollout(database.db, "ro_1");
    expect(row).toMatchObject({ state: "paused", failed: 1, revision: 2 });
    const targets = await listRolloutTargets(database.db, "ro_1");
    expect(targets.map((t) => [t.sentinel_id, t.outcome, t.reason])).toEqual([
      ["se_b", "failed", "start_failed: exited with code 3"],
      ["se_a", "pending", null],
    ]);
    await writeRolloutMirror(database.db, { ...base, id: "ro_2", startedAt: 30 }, []);
    expect((await latestRollout(database.db))?.id).toBe("ro_2");
    expect((await listRollouts(database.db, 10)).map((r) => r.id)).toEqual(["ro_2", "ro_1"]);
  });

  it("clears a deploy's awakeable only while it is still the armed one", async () => {
    await armSentinelDeploy(database.db, "se_a", "awk_1", "img:2", 5);
    expect(await findSentinelDeployWait(database.db, "r1", "k-se_a")).toEqual({
      sentinelId: "se_a",
      awakeableId: "awk_1",
      image: "img:2",
      desiredReplicas: 1,
    });
    await armSentinelDeploy(database.db, "se_a", "awk_2", "img:3", 6);
    await clearSentinelDeployWait(database.db, "se_a", "awk_1"); // stale: keeps awk_2
    expect((await findSentinelDeployWait(database.db, "r1", "k-se_a"))?.awakeableId).toBe("awk_2");
    await finishSentinelDeploy(database.db, "se_a", "awk_2", "failed", 7);
    expect(await findSentinelDeployWait(database.db, "r1", "k-se_a")).toBeUndefined();
    expect((await findSentinel(database.db, "se_a"))?.deploy_status).toBe("failed");
  });

  it("parses agent failure texts into reason, message and exit code", () => {
    expect(parseSentinelFailure("image_pull_failed: digest mismatch")).toEqual({ reason: "image_pull_failed", message: "digest mismatch" });
    expect(parseSentinelFailure("start_failed: exited with code 3; gave up after 3 failed starts")).toEqual({
      reason: "start_failed",
      message: "exited with code 3; gave up after 3 failed starts",
      exitCode: 3,
    });
    expect(parseSentinelFailure("something odd")).toEqual({ reason: "start_failed", message: "something odd" });
  });
});
