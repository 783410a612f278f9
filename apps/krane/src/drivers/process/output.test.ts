/**
 * Reading instance output for the log shipper: only complete lines, resumable from a cursor, across a
 * copy-then-truncate rotation without losing or repeating a line (positions stay put), and a new
 * stream when a log file starts over.
 */
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rotateIfLarge } from "./logs.js";
import { readOutputSince, workloadOfInstance } from "./output.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "krane-output-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readOutputSince", () => {
  it("returns complete lines once each, across a rotation, with stable positions", async () => {
    const file = join(dir, "app.log");
    await writeFile(file, "one\ntwo\npart");
    const first = await readOutputSince(file, undefined, 1024);
    expect(first.lines.map((l) => [l.position, l.line])).toEqual([
      [0, "one"],
      [4, "two"],
    ]);
    // The partial line waits for its newline.
    await appendFile(file, "ial\nthree\n");
    const second = await readOutputSince(file, first.cursor, 1024);
    expect(second.lines.map((l) => [l.position, l.line])).toEqual([
      [8, "partial"],
      [16, "three"],
    ]);
    expect((await readOutputSince(file, second.cursor, 1024)).lines).toEqual([]);

    // Lines written before the rotation that were not read yet come from <file>.1.
    await appendFile(file, "four\n");
    expect(await rotateIfLarge(file, 1, 2)).toBe(true);
    await appendFile(file, "five\n");
    const third = await readOutputSince(file, second.cursor, 1024);
    expect(third.lines.map((l) => [l.position, l.line])).toEqual([
      [22, "four"],
      [27, "five"],
    ]);
    expect(new Set(third.lines.map((l) => l.stream))).toEqual(new Set([first.cursor.stream]));
    expect((await readOutputSince(file, third.cursor, 1024)).lines).toEqual([]);
  });

  it("splits reads at maxBytes and starts a new stream when the file starts over", async () => {
    const file = join(dir, "big.log");
    await writeFile(file, "aaaa\nbbbb\ncccc\n");
    const a = await readOutputSince(file, undefined, 11);
    expect(a.lines.map((l) => l.line)).toEqual(["aaaa", "bbbb"]);
    const b = await readOutputSince(file, a.cursor, 11);
    expect(b.lines.map((l) => [l.position, l.line])).toEqual([[10, "cccc"]]);
    await rm(file);
    await writeFile(file, "new\n");
    const c = await readOutputSince(file, b.cursor, 11);
    expect(c.lines.map((l) => [l.position, l.line])).toEqual([[0, "new"]]);
    expect(c.cursor.stream).not.toBe(b.cursor.stream);
  });

  it("knows the workload of an instance name", () => {
    expect(workloadOfInstance("d_abc-0")).toBe("d_abc");
    expect(workloadOfInstance("d_abc-12-0a1b2c")).toBe("d_abc");
    expect(workloadOfInstance("nonsense")).toBeUndefined();
  });
});
