import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tarGz } from "../src/self-check.js";

const run = promisify(execFile);

describe("tarGz", () => {
  it("writes an archive that GNU tar lists and extracts byte for byte", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ctrl-dev-tar-"));
    try {
      const binary = Uint8Array.from({ length: 1500 }, (_, i) => i % 251);
      const archive = join(dir, "context.tar.gz");
      await writeFile(
        archive,
        tarGz([
          { name: "ctrl.json", content: '{"start":"node server.js"}\n' },
          { name: "bin/data", content: binary, mode: 0o755 },
        ]),
      );
      const { stdout } = await run("tar", ["tzvf", archive]);
      expect(stdout).toMatch(/-rw-r--r-- .* 27 .* ctrl\.json/);
      expect(stdout).toMatch(/-rwxr-xr-x .* 1500 .* bin\/data/);
      await run("tar", ["xzf", archive, "-C", dir]);
      expect(await readFile(join(dir, "ctrl.json"), "utf8")).toBe('{"start":"node server.js"}\n');
      expect(new Uint8Array(await readFile(join(dir, "bin/data")))).toEqual(binary);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses names that do not fit a ustar header", () => {
    expect(() => tarGz([{ name: "x".repeat(101), content: "" }])).toThrow("tar entry name too long");
  });
});
