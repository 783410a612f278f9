/** Workspace queries against a real database: a workspace lock holds until its transaction ends. */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockWorkspace } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedProject } from "./helpers.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedProject(database.db, { workspaceId: "ws_1", projectId: "proj_1", environmentIds: [{ id: "env_1", slug: "production" }] });
});

afterAll(async () => {
  await database?.drop();
});

describe("lockWorkspace", () => {
  it("holds the workspace row until the transaction ends", async () => {
    const tryLock = () => sql`SELECT id FROM workspaces WHERE id = 'ws_1' FOR UPDATE NOWAIT`.execute(database.db);
    await database.db.transaction().execute(async (trx) => {
      await lockWorkspace(trx, "ws_1");
      await expect(tryLock()).rejects.toThrow(/lock/i);
    });
    await expect(tryLock()).resolves.toBeDefined();
  });
});
