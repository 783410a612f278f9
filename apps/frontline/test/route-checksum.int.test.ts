/**
 * The route table's whole-table checksum against a real MariaDB. Guarantee: a route change that the
 * incremental load cannot see — same row count, `updated_at` stamped before the incremental window
 * (a writer with a slow clock, a transaction that committed long after it stamped its rows) — is
 * still served, because the periodic checksum differs from the in-memory one and forces a full load.
 * The unconditional full reload is set far beyond the test, so only the checksum can find it.
 */
import { createTestDatabase, insertDeployment, newEdgeProject, setRoute, waitFor, type TestDatabase } from "@ctrl/testing";
import { pino } from "pino";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRouteTable, type RouteTable } from "../src/route-table.js";

let database: TestDatabase;
let table: RouteTable | undefined;
const project = newEdgeProject();
/** Messages the route table logged (the checksum branch says so when it reloads). */
const messages: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await table?.stop();
  await database?.drop();
});

describe("route table checksum", () => {
  it("serves a change the incremental load missed (same count, stamped an hour ago)", async () => {
    const before = await insertDeployment(database.db, project);
    const after = await insertDeployment(database.db, project);
    for (let i = 0; i < 5; i++) await setRoute(database.db, project, `filler-${i}.ctrl.localhost`, before);
    await setRoute(database.db, project, "stale.ctrl.localhost", before);

    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n")) if (line) messages.push((JSON.parse(line) as { msg: string }).msg);
        done();
      },
    });
    table = await startRouteTable({
      db: database.db,
      region: "local",
      logger: pino({ level: "info" }, sink),
      pollIntervalMs: 50,
      fullReloadMs: 3_600_000,
      verifyEveryMs: 200,
    });
    expect(table.snapshot().routes.get("stale.ctrl.localhost")?.deploymentId).toBe(before);
    const size = table.snapshot().routes.size;

    // Moved without touching the count, with an updated_at far outside the incremental window.
    await database.db
      .updateTable("frontline_routes")
      .set({ deployment_id: after, updated_at: Date.now() - 3_600_000 })
      .where("fully_qualified_domain_name", "=", "stale.ctrl.localhost")
      .execute();

    await waitFor("the moved route to be served", () => table!.snapshot().routes.get("stale.ctrl.localhost")?.deploymentId === after, {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    expect(table.snapshot().routes.size).toBe(size);
    // It was the checksum branch that found it (not a count change, not the hourly reload).
    expect(messages).toContain("route checksum differs from the database; reloading all routes");
  });
});
