import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CursorStore } from "./cursor.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "krane-unit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("cursor store", () => {
  it("persists, reloads, and ignores a cursor written for another region", async () => {
    const file = join(dir, "cursor.json");
    const a = new CursorStore(file, "local");
    expect(await a.load()).toBe(0n);
    await a.set(18446744073709551615n); // uint64 max survives the round trip
    expect(await new CursorStore(file, "local").load()).toBe(18446744073709551615n);
    expect(await new CursorStore(file, "eu").load()).toBe(0n);
    await writeFile(file, "{garbage");
    expect(await new CursorStore(file, "local").load()).toBe(0n);
  });
});
