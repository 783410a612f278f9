/**
 * Environment variable queries against a real database: one row per (environment, key), an
 * upsert replaces the value; lists are ordered by key and scoped to one environment; the key list
 * never carries values.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deleteEnvironmentVariables,
  listEnvironmentVariableKeys,
  listEnvironmentVariables,
  upsertEnvironmentVariable,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedProject } from "./helpers.js";

let database: TestDatabase;

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

describe("environment variables", () => {
  it("upserts by (environment, key) and lists keys and values per environment in key order", async () => {
    const put = (environmentId: string, key: string, encryptedValue: string, now: number) =>
      upsertEnvironmentVariable(database.db, { workspaceId: "ws_1", environmentId, key, encryptedValue, now });
    await put("env_1", "ZED", "c1", 1);
    await put("env_1", "ALPHA", "c2", 1);
    await put("env_2", "OTHER", "c3", 1);
    await put("env_1", "ZED", "c4", 2);
    expect(await listEnvironmentVariableKeys(database.db, "env_1")).toEqual(["ALPHA", "ZED"]);
    expect((await listEnvironmentVariables(database.db, "env_1")).map((v) => [v.key, v.encrypted_value])).toEqual([
      ["ALPHA", "c2"],
      ["ZED", "c4"],
    ]);
    expect(await listEnvironmentVariableKeys(database.db, "env_missing")).toEqual([]);
  });
});

describe("deleting environment variables", () => {
  it("deletes the named keys of one environment and returns the ones that existed", async () => {
    await upsertEnvironmentVariable(database.db, {
      workspaceId: "ws_1",
      environmentId: "env_2",
      key: "ALPHA",
      encryptedValue: "x",
      now: 3,
    });
    expect(await deleteEnvironmentVariables(database.db, "env_1", ["ZED", "MISSING"])).toEqual(["ZED"]);
    expect(await listEnvironmentVariableKeys(database.db, "env_1")).toEqual(["ALPHA"]);
    // The same key in another environment stays.
    expect(await listEnvironmentVariableKeys(database.db, "env_2")).toEqual(["ALPHA", "OTHER"]);
    expect(await deleteEnvironmentVariables(database.db, "env_1", [])).toEqual([]);
  });
});
