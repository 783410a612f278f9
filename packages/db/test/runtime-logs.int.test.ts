/**
 * Runtime log queries against a real database: a retried push (same region, instance, stream and position)
 * stores nothing twice; pages come oldest first after a cursor, filtered by time and instance, or as
 * the last N lines; the instances that printed are listed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendRuntimeLogs, listRuntimeLogInstances, readRuntimeLogs } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

const line = (instance: string, position: number, text: string, observedAt: number) => ({
  deploymentId: "d_1",
  instance,
  stream: "s1",
  position,
  line: text,
  observedAt,
});

describe("runtime logs", () => {
  it("stores each (region, instance, stream, position) once and pages after a cursor", async () => {
    const db = database.db;
    expect(await appendRuntimeLogs(db, "local", [line("d_1-0", 0, "a", 10), line("d_1-0", 2, "b", 20)])).toBe(2);
    // A retried push of the same lines, plus one new line and one of another instance.
    expect(await appendRuntimeLogs(db, "local", [line("d_1-0", 2, "b", 20), line("d_1-0", 4, "c", 30), line("d_1-1", 0, "x", 25)])).toBe(2);
    // Another region's instance with the same name and position is a different line.
    expect(await appendRuntimeLogs(db, "eu", [line("d_1-0", 0, "eu-a", 26)])).toBe(1);

    const all = await readRuntimeLogs(db, "d_1", { afterSeq: 0, since: 0, limit: 100, tail: false });
    expect(all.map((l) => l.line)).toEqual(["a", "b", "c", "x", "eu-a"]);
    expect(all.map((l) => l.region)).toEqual(["local", "local", "local", "local", "eu"]);

    const after = await readRuntimeLogs(db, "d_1", { afterSeq: all[1]!.id, since: 0, limit: 2, tail: false });
    expect(after.map((l) => l.line)).toEqual(["c", "x"]);

    const since = await readRuntimeLogs(db, "d_1", { afterSeq: 0, since: 25, limit: 100, tail: false });
    expect(since.map((l) => l.line)).toEqual(["c", "x", "eu-a"]);

    const one = await readRuntimeLogs(db, "d_1", { afterSeq: 0, since: 0, instance: "d_1-1", limit: 100, tail: false });
    expect(one.map((l) => l.line)).toEqual(["x"]);

    const tail = await readRuntimeLogs(db, "d_1", { afterSeq: 0, since: 0, limit: 2, tail: true });
    expect(tail.map((l) => l.line)).toEqual(["x", "eu-a"]);

    expect(await listRuntimeLogInstances(db, "d_1")).toEqual(["d_1-0", "d_1-1"]);
    expect(await readRuntimeLogs(db, "d_2", { afterSeq: 0, since: 0, limit: 100, tail: false })).toEqual([]);
  });
});
