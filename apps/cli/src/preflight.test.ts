import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isEnvFile, largestFiles, tooLargeMessage, withoutEnvFiles } from "./preflight.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ctrl-preflight-"));
  await mkdir(join(dir, "assets"));
  await writeFile(join(dir, "assets", "big.bin"), Buffer.alloc(5_000));
  await writeFile(join(dir, "medium.txt"), Buffer.alloc(500));
  await writeFile(join(dir, "small.js"), "x");
  await writeFile(join(dir, ".env"), "SECRET=1");
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("deploy preflight", () => {
  it("knows .env files (not the example ones)", () => {
    expect(["./.env", ".env", "app/.env.local", ".env.production"].map(isEnvFile)).toEqual([true, true, true, true]);
    expect([".env.example", "env", ".envrc.txt", "a/.env.sample"].map(isEnvFile)).toEqual([false, false, false, false]);
  });

  it("leaves .env out unless asked, and says what it left out", () => {
    const keepAll = () => false;
    const without = withoutEnvFiles(keepAll, false);
    expect([".env", "small.js"].map(without.filter)).toEqual([true, false]);
    expect(without.skipped).toEqual([".env"]);
    const withEnv = withoutEnvFiles(keepAll, true);
    expect(withEnv.filter(".env")).toBe(false);
    expect(withEnv.skipped).toEqual([]);
  });

  it("names the largest packed files and suggests .ctrlignore", () => {
    const { filter } = withoutEnvFiles(() => false, false);
    const largest = largestFiles(dir, filter, 2);
    expect(largest).toEqual([
      { path: "assets/big.bin", bytes: 5_000 },
      { path: "medium.txt", bytes: 500 },
    ]);
    const message = tooLargeMessage(6_000, 1_000, largest, (n) => `${n} B`);
    expect(message).toMatch(/^the packed context is 6000 B, over the 1000 B limit; nothing was uploaded/);
    expect(message).toContain("5000 B  assets/big.bin");
    expect(message).toContain(".ctrlignore");
  });
});
