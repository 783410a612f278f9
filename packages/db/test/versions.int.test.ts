/**
 * Version allocation against a real database: versions of a region grow by one, never below the
 * floor, independently per region; a missing counter is recovered from the highest committed
 * version; an allocation rolled back with its transaction is not consumed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allocateVersion, maxCommittedVersion } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedProject, seedSentinel } from "./helpers.js";

let database: TestDatabase;
const allocate = (region: string, floor?: number) => database.db.transaction().execute((trx) => allocateVersion(trx, region, floor));

beforeAll(async () => {
  database = await createTestDatabase();
  await seedProject(database.db, { workspaceId: "ws_1", projectId: "proj_1", environmentIds: [{ id: "env_1", slug: "production" }] });
});

afterAll(async () => {
  await database?.drop();
});

describe("allocateVersion", () => {
  it("counts up per region and respects the floor", async () => {
    expect(await allocate("r1")).toBe(1);
    expect(await allocate("r1")).toBe(2);
    expect(await allocate("r2")).toBe(1);
    expect(await allocate("r1", 10)).toBe(11);
    expect(await allocate("r1", 3)).toBe(12);
    expect(await maxCommittedVersion(database.db, "r1")).toBe(12);
  });

  it("recovers a missing counter from the highest committed version of the region", async () => {
    await seedSentinel(database.db, { id: "se_1", environment_id: "env_1", region: "r3", version: 41 });
    expect(await maxCommittedVersion(database.db, "r3")).toBe(41);
    expect(await allocate("r3")).toBe(42);
    expect(await maxCommittedVersion(database.db, "r9")).toBe(0);
  });

  it("does not consume a version whose transaction rolled back", async () => {
    await expect(
      database.db.transaction().execute(async (trx) => {
        await allocateVersion(trx, "r2");
        throw new Error("rollback");
      }),
    ).rejects.toThrow("rollback");
    expect(await allocate("r2")).toBe(2);
  });
});
