import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findEscapingSymlink } from "./links.js";

let dir: string;
afterAll(async () => dir && rm(dir, { recursive: true, force: true }));

describe("findEscapingSymlink", () => {
  it("accepts links inside the tree and names the first one that leaves it", async () => {
    dir = await mkdtemp(join(tmpdir(), "ctrl-links-"));
    await mkdir(join(dir, "node_modules", ".bin"), { recursive: true });
    await mkdir(join(dir, "node_modules", "ms"), { recursive: true });
    await writeFile(join(dir, "node_modules", "ms", "index.js"), "");
    await symlink("../ms/index.js", join(dir, "node_modules", ".bin", "ms"));
    await symlink("node_modules", join(dir, "deps"));
    expect(await findEscapingSymlink(dir)).toBeUndefined();
    await mkdir(join(dir, "a", "b"), { recursive: true });
    await symlink("../../../outside", join(dir, "a", "b", "up"));
    expect(await findEscapingSymlink(dir)).toEqual({ path: "a/b/up", target: "../../../outside" });
  });

  it("refuses absolute targets", async () => {
    const d = await mkdtemp(join(tmpdir(), "ctrl-links-abs-"));
    try {
      await symlink("/etc/passwd", join(d, "passwd"));
      expect(await findEscapingSymlink(d)).toEqual({ path: "passwd", target: "/etc/passwd" });
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
