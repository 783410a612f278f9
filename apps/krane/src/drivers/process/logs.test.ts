import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rotateIfLarge, tailLog } from "./logs.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "krane-unit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("log rotation and tail", () => {
  it("rotates past the size by copy-truncate, keeps N files, and tails across the rotation", async () => {
    const file = join(dir, "app.log");
    await writeFile(file, Array.from({ length: 10 }, (_, i) => `line ${i}`).join("\n") + "\n");
    expect(await rotateIfLarge(file, 10_000, 2)).toBe(false);
    expect(await rotateIfLarge(file, 10, 2)).toBe(true);
    expect(await readFile(file, "utf8")).toBe("");
    await appendFile(file, "line 10\nline 11\n");
    expect(await tailLog(file, 3)).toEqual(["line 9", "line 10", "line 11"]);
    expect(await tailLog(file, 1)).toEqual(["line 11"]);
    await rotateIfLarge(file, 1, 2);
    await appendFile(file, "x".repeat(20));
    await rotateIfLarge(file, 1, 2);
    expect((await readFile(`${file}.2`, "utf8")).split("\n")[0]).toBe("line 10");
    expect(await tailLog(join(dir, "missing.log"), 5)).toEqual([]);
  });

  it("tails a large file without reading all of it into lines", async () => {
    const file = join(dir, "big.log");
    await writeFile(file, Array.from({ length: 50_000 }, (_, i) => `entry ${i} ${"x".repeat(40)}`).join("\n") + "\n");
    const last = await tailLog(file, 2);
    expect(last[1]).toMatch(/^entry 49999 /);
    expect(last[0]).toMatch(/^entry 49998 /);
  });
});
