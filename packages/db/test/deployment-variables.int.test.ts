/**
 * Deployment variable snapshots against a real database: a snapshot copies the environment's
 * ciphertexts at that moment and later changes of the environment do not reach it; a deployment
 * without a snapshot (created before migration 0014) keeps reading the environment's current values.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  listVariableKeysOfDeployment,
  listVariablesOfDeployment,
  snapshotDeploymentVariables,
  upsertEnvironmentVariable,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedDeployment, seedProject } from "./helpers.js";

let database: TestDatabase;
const ids = { workspace_id: "ws_1", project_id: "proj_1", environment_id: "env_1" };
const put = (environmentId: string, key: string, encryptedValue: string, now: number) =>
  upsertEnvironmentVariable(database.db, { workspaceId: "ws_1", environmentId, key, encryptedValue, now });
const pairs = (rows: { key: string; encrypted_value: string }[]) => rows.map((r) => [r.key, r.encrypted_value]);

beforeAll(async () => {
  database = await createTestDatabase();
  await seedProject(database.db, {
    workspaceId: "ws_1",
    projectId: "proj_1",
    environmentIds: [
      { id: "env_1", slug: "production" },
      { id: "env_2", slug: "preview" },
    ],
  });
});

afterAll(async () => {
  await database?.drop();
});

describe("deployment variable snapshots", () => {
  it("a snapshot keeps the values of its moment: later sets, new keys and other environments do not reach it", async () => {
    await put("env_1", "API_URL", "c-old", 1);
    await put("env_1", "SECRET", "c-secret", 1);
    await put("env_2", "ONLY_PREVIEW", "c-p", 1);
    await seedDeployment(database.db, { id: "d_old", ...ids });
    expect(await snapshotDeploymentVariables(database.db, { deploymentId: "d_old", environmentId: "env_1", now: 5 })).toBe(2);

    await put("env_1", "API_URL", "c-new", 6);
    await put("env_1", "ADDED", "c-added", 6);
    await seedDeployment(database.db, { id: "d_new", ...ids });
    await snapshotDeploymentVariables(database.db, { deploymentId: "d_new", environmentId: "env_1", now: 7 });

    expect(pairs(await listVariablesOfDeployment(database.db, "d_old", "env_1"))).toEqual([
      ["API_URL", "c-old"],
      ["SECRET", "c-secret"],
    ]);
    expect(pairs(await listVariablesOfDeployment(database.db, "d_new", "env_1"))).toEqual([
      ["ADDED", "c-added"],
      ["API_URL", "c-new"],
      ["SECRET", "c-secret"],
    ]);
    expect(await listVariableKeysOfDeployment(database.db, "d_old", "env_1")).toEqual(["API_URL", "SECRET"]);
    const stamped = await database.db
      .selectFrom("deployments")
      .select("variables_snapshot_at")
      .where("id", "=", "d_old")
      .executeTakeFirstOrThrow();
    expect(Number(stamped.variables_snapshot_at)).toBe(5);
  });

  it("an empty snapshot stays empty after variables are added", async () => {
    await seedDeployment(database.db, { id: "d_empty", ...ids, environment_id: "env_3" });
    expect(await snapshotDeploymentVariables(database.db, { deploymentId: "d_empty", environmentId: "env_3", now: 8 })).toBe(0);
    await put("env_3", "LATER", "c-later", 9);
    expect(await listVariablesOfDeployment(database.db, "d_empty", "env_3")).toEqual([]);
  });

  it("a deployment without a snapshot, or an unknown id, reads the environment's current variables", async () => {
    await seedDeployment(database.db, { id: "d_legacy", ...ids });
    expect(pairs(await listVariablesOfDeployment(database.db, "d_legacy", "env_2"))).toEqual([["ONLY_PREVIEW", "c-p"]]);
    expect(pairs(await listVariablesOfDeployment(database.db, "d_missing", "env_2"))).toEqual([["ONLY_PREVIEW", "c-p"]]);
  });
});
