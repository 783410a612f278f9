import { existsSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, utimes, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExtractError, packDirectory, safeExtract, sha256File, type ExtractErrorCode } from "../src/index.js";
import { rawTar, tarGz, type RawEntry } from "./tarball.js";

let work: string;
let n = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ctrl-artifact-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function archive(bytes: Buffer): Promise<string> {
  const file = join(work, `a${n++}.tar.gz`);
  await writeFile(file, bytes);
  return file;
}

/** Extracts into a fresh path beside a sentinel directory that must stay untouched. */
async function expectRejected(bytes: Buffer, code: ExtractErrorCode, messagePart?: RegExp, limits = {}) {
  const base = join(work, `case${n++}`);
  await mkdir(join(base, "outside"), { recursive: true });
  const dest = join(base, "root");
  const err = await safeExtract(await archive(bytes), dest, limits).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExtractError);
  expect((err as ExtractError).code).toBe(code);
  if (messagePart) expect((err as ExtractError).message).toMatch(messagePart);
  // Nothing written anywhere: the first pass refuses before the destination exists.
  expect(existsSync(dest)).toBe(false);
  expect(await readdir(join(base, "outside"))).toEqual([]);
  return err as ExtractError;
}

async function makeApp(): Promise<string> {
  const dir = join(work, `app${n++}`);
  await mkdir(join(dir, "node_modules", "pkg"), { recursive: true });
  await mkdir(join(dir, "node_modules", ".bin"), { recursive: true });
  await writeFile(join(dir, "ctrl.json"), JSON.stringify({ start: ["node", "server.js"], healthPath: "/health" }));
  await writeFile(join(dir, "server.js"), "console.log('hi')\n");
  await writeFile(join(dir, "node_modules", "pkg", "bin.js"), "#!/usr/bin/env node\n");
  await chmod(join(dir, "node_modules", "pkg", "bin.js"), 0o755);
  await symlink("../pkg/bin.js", join(dir, "node_modules", ".bin", "pkg"));
  return dir;
}

describe("packDirectory + safeExtract round trip", () => {
  it("restores files, exec bits and in-root symlinks", async () => {
    const dir = await makeApp();
    const out = join(work, "app.tar.gz");
    const packed = await packDirectory(dir, out);
    expect(packed.sha256).toBe(await sha256File(out));
    expect(packed.bytes).toBe((await stat(out)).size);

    const dest = join(work, `x${n++}`);
    const result = await safeExtract(out, dest);
    expect(result.files).toBe(7); // ctrl.json, server.js, node_modules, .bin, .bin/pkg, pkg, pkg/bin.js
    expect(result.bytes).toBeGreaterThan(0);
    expect(await readFile(join(dest, "server.js"), "utf8")).toBe("console.log('hi')\n");
    expect((await stat(join(dest, "node_modules", "pkg", "bin.js"))).mode & 0o111).not.toBe(0);
    expect((await lstat(join(dest, "node_modules", ".bin", "pkg"))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dest, "node_modules", ".bin", "pkg"))).toBe("../pkg/bin.js");
  });

  it("strips setuid, setgid and sticky bits and leaves everything readable by the sandbox uids", async () => {
    const bytes = tarGz([
      { path: "bin", type: "5", mode: 0o3700 },
      { path: "bin/suid", body: "#!/bin/sh\n", mode: 0o4755 },
      { path: "bin/sgid", body: "#!/bin/sh\n", mode: 0o2711 },
      { path: "secret.txt", body: "x", mode: 0o600 },
    ]);
    const dest = join(work, `modes${n++}`);
    await safeExtract(await archive(bytes), dest);
    const mode = async (p: string) => (await stat(join(dest, p))).mode & 0o7777;
    expect(await mode("bin/suid")).toBe(0o755);
    expect(await mode("bin/sgid")).toBe(0o755);
    expect(await mode("bin")).toBe(0o755);
    expect(await mode("secret.txt")).toBe(0o644);
  });

  it("is deterministic: same tree, different mtimes and packing time, same digest", async () => {
    const dir = await makeApp();
    const a = await packDirectory(dir, join(work, "d1.tar.gz"));
    await utimes(join(dir, "server.js"), new Date(2020, 1, 1), new Date(2020, 1, 1));
    const b = await packDirectory(dir, join(work, "d2.tar.gz"));
    expect(b.sha256).toBe(a.sha256);
    await writeFile(join(dir, "server.js"), "changed\n");
    const c = await packDirectory(dir, join(work, "d3.tar.gz"));
    expect(c.sha256).not.toBe(a.sha256);
  });

  it("leaves ignored paths (and everything under them) out", async () => {
    const dir = await makeApp();
    await mkdir(join(dir, ".git"));
    await writeFile(join(dir, ".git", "HEAD"), "ref: x");
    const out = join(work, `i${n++}.tar.gz`);
    await packDirectory(dir, out, { ignore: (p) => p === ".git" || p.startsWith("node_modules") });
    const dest = join(work, `x${n++}`);
    await safeExtract(out, dest);
    expect((await readdir(dest)).sort()).toEqual(["ctrl.json", "server.js"]);
  });

  it("round-trips long (pax) paths and non-ASCII names", async () => {
    const dir = join(work, `long${n++}`);
    const deep = join(dir, ...Array.from({ length: 8 }, (_, i) => `node_modules_level_${i}_with_a_long_name`));
    await mkdir(deep, { recursive: true });
    await writeFile(join(deep, "índex-ünïcode.js"), "deep\n");
    await writeFile(join(dir, "ctrl.json"), "{}");
    const out = join(work, `long${n++}.tar.gz`);
    await packDirectory(dir, out);
    const dest = join(work, `x${n++}`);
    await safeExtract(out, dest);
    const rel = deep.slice(dir.length);
    expect(rel.length).toBeGreaterThan(255);
    expect(await readFile(join(dest, rel, "índex-ünïcode.js"), "utf8")).toBe("deep\n");
  });

  it("accepts an archive with a ./ root entry and hardlinks inside the root", async () => {
    const bytes = tarGz([
      { path: "./", type: "5" },
      { path: "./a.txt", body: "A" },
      { path: "./b.txt", type: "1", linkpath: "a.txt" },
    ]);
    const dest = join(work, `x${n++}`);
    const r = await safeExtract(await archive(bytes), dest);
    expect(r.files).toBe(2);
    expect(await readFile(join(dest, "b.txt"), "utf8")).toBe("A");
  });
});

describe("safeExtract refuses", () => {
  it("a plain (uncompressed) tar, random bytes and an empty file", async () => {
    await expectRejected(rawTar([{ path: "a", body: "x" }]), "not_gzip", /not gzip/);
    await expectRejected(Buffer.from("hello world, not an archive"), "not_gzip");
    await expectRejected(Buffer.alloc(0), "not_gzip");
  });

  it("a truncated gzip and gzip of garbage", async () => {
    const full = tarGz([{ path: "a.txt", body: "x".repeat(10_000) }]);
    await expectRejected(full.subarray(0, full.length - 20), "corrupt");
    await expectRejected(gzipSync(Buffer.from("definitely not a tar archive".repeat(40))), "corrupt");
  });

  it("a gzip inside the gzip", async () => {
    await expectRejected(gzipSync(tarGz([{ path: "a", body: "x" }])), "corrupt", /compressed twice/);
  });

  it.each(["/tmp/evil.txt", "/etc/cron.d/x", "C:/evil", "\\evil"])("the absolute path %j", async (path) => {
    const err = await expectRejected(
      tarGz([
        { path: "ok.txt", body: "ok" },
        { path, body: "pwned" },
      ]),
      "absolute_path",
    );
    expect(err.message).toContain(JSON.stringify(path));
    expect(err.entry).toBe(path);
  });

  it.each(["../evil.txt", "a/../../evil.txt", "a/b/../../../evil", "..", "a\\..\\..\\evil"])("the traversal %j", async (path) => {
    const err = await expectRejected(tarGz([{ path, body: "pwned" }]), "path_traversal");
    expect(err.message).toContain("..");
  });

  it("symlinks pointing outside the root: absolute, relative, and through a chain of in-root links", async () => {
    await expectRejected(tarGz([{ path: "etc", type: "2", linkpath: "/etc" }]), "link_escape", /absolute path "\/etc"/);
    await expectRejected(tarGz([{ path: "up", type: "2", linkpath: "../.." }]), "link_escape", /"up"/);
    await expectRejected(tarGz([{ path: "a/b/up", type: "2", linkpath: "../../../x" }]), "link_escape");
    // sub/d -> .. is the root itself (allowed alone), but l -> sub/d/.. climbs above it.
    await expectRejected(
      tarGz([
        { path: "sub", type: "5" },
        { path: "sub/d", type: "2", linkpath: ".." },
        { path: "l", type: "2", linkpath: "sub/d/.." },
      ]),
      "link_escape",
      /"l"/,
    );
    // The chain is resolved against the final set of links, whatever their order in the archive.
    await expectRejected(
      tarGz([
        { path: "l", type: "2", linkpath: "x/.." },
        { path: "x", type: "2", linkpath: ".." },
      ]),
      "link_escape",
    );
  });

  it("a symlink loop", async () => {
    await expectRejected(
      tarGz([
        { path: "a", type: "2", linkpath: "b/x" },
        { path: "b", type: "2", linkpath: "a/y" },
      ]),
      "link_escape",
    );
  });

  it("an entry written through a symlink, even one pointing inside", async () => {
    await expectRejected(
      tarGz([
        { path: "real", type: "5" },
        { path: "alias", type: "2", linkpath: "real" },
        { path: "alias/file.txt", body: "x" },
      ]),
      "path_traversal",
      /through the symlink "alias"/,
    );
    await expectRejected(
      tarGz([
        { path: "tmp", type: "2", linkpath: "/tmp" },
        { path: "tmp/pwned.txt", body: "x" },
      ]),
      "link_escape",
    );
  });

  it("hardlinks outside the root", async () => {
    await expectRejected(tarGz([{ path: "pw", type: "1", linkpath: "/etc/passwd" }]), "link_escape");
    await expectRejected(tarGz([{ path: "pw", type: "1", linkpath: "../../etc/passwd" }]), "path_traversal", /hardlink target/);
    await expectRejected(
      tarGz([
        { path: "up", type: "2", linkpath: "." },
        { path: "sub", type: "5" },
        { path: "sub/esc", type: "2", linkpath: ".." },
        { path: "h", type: "1", linkpath: "sub/esc/up/../x" },
      ]),
      "path_traversal",
    );
  });

  it.each([
    ["a character device", "3"],
    ["a block device", "4"],
    ["a fifo", "6"],
  ] as const)("%s", async (_what, type) => {
    await expectRejected(tarGz([{ path: "dev", type }]), "unsupported_type", /"dev"/);
  });

  it("a duplicate path", async () => {
    await expectRejected(
      tarGz([
        { path: "a.txt", body: "1" },
        { path: "./a.txt", body: "2" },
      ]),
      "duplicate_entry",
      /twice/,
    );
  });

  it("more entries than maxFiles", async () => {
    const entries: RawEntry[] = Array.from({ length: 11 }, (_, i) => ({ path: `f${i}`, body: "x" }));
    await expectRejected(tarGz(entries), "too_many_files", /maxFiles/, { maxFiles: 10 });
  });

  it("more unpacked bytes than maxExtractedBytes, counted from the headers", async () => {
    await expectRejected(tarGz([{ path: "big", body: Buffer.alloc(2048) }]), "extracted_too_large", /"big"/, { maxExtractedBytes: 1024 });
  });

  it("a gzip bomb (64 MiB of zeros, a few KiB compressed) long before it is inflated", async () => {
    const body = Buffer.alloc(64 * 1024 * 1024);
    const bomb = tarGz([{ path: "zeros", body }]);
    expect(bomb.length).toBeLessThan(200 * 1024);
    await expectRejected(bomb, "extracted_too_large", undefined, { maxExtractedBytes: 1024 * 1024 });
  });

  it("a header lying about its size (more data than the stream holds)", async () => {
    await expectRejected(tarGz([{ path: "liar", body: "short", size: 100_000 }]), "corrupt");
  });

  it("an archive larger than maxCompressedBytes, before reading it", async () => {
    await expectRejected(tarGz([{ path: "a", body: "x".repeat(5000) }]), "compressed_too_large", /limit/, { maxCompressedBytes: 10 });
  });

  it("a destination that is not empty", async () => {
    const dest = join(work, `x${n++}`);
    await mkdir(dest);
    await writeFile(join(dest, "keep.txt"), "mine");
    const err = await safeExtract(await archive(tarGz([{ path: "keep.txt", body: "theirs" }])), dest).catch((e: unknown) => e);
    expect((err as ExtractError).code).toBe("dest_not_empty");
    expect(await readFile(join(dest, "keep.txt"), "utf8")).toBe("mine");
  });
});
