import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ancestorGitignores, ContextIgnore, packFilter, type IgnoreFiles } from "./ignore.js";

const rules = (files: Record<string, IgnoreFiles>) => new ContextIgnore((dir) => files[dir] ?? {});

describe("ContextIgnore", () => {
  it("always leaves out .git and node_modules, at any depth", () => {
    const r = rules({});
    expect(r.ignores(".git", true)).toBe(true);
    expect(r.ignores("node_modules", true)).toBe(true);
    expect(r.ignores("packages/a/node_modules", true)).toBe(true);
    expect(r.ignores("src/index.js", false)).toBe(false);
    expect(r.ignores(".gitignore", false)).toBe(false);
  });

  it("honours .gitignore, including directory-only patterns and negation", () => {
    const r = rules({ "": { gitignore: "dist/\n*.log\n!keep.log\n/secret.txt\n" } });
    expect(r.ignores("dist", true)).toBe(true);
    expect(r.ignores("dist", false)).toBe(false); // a file named dist is not a directory
    expect(r.ignores("app.log", false)).toBe(true);
    expect(r.ignores("logs/x.log", false)).toBe(true);
    expect(r.ignores("keep.log", false)).toBe(false);
    expect(r.ignores("secret.txt", false)).toBe(true);
    expect(r.ignores("sub/secret.txt", false)).toBe(false); // anchored to the root
  });

  it("lets .ctrlignore add rules and re-include what .gitignore excluded", () => {
    const r = rules({ "": { gitignore: "dist/\n.env\n", ctrlignore: "!dist/\ntests/\n*.md\n" } });
    expect(r.ignores("dist", true)).toBe(false);
    expect(r.ignores("dist/server.js", false)).toBe(false);
    expect(r.ignores("tests", true)).toBe(true);
    expect(r.ignores("README.md", false)).toBe(true);
    expect(r.ignores(".env", false)).toBe(true);
  });

  it("applies nested .gitignore files relative to their directory", () => {
    const r = rules({ "": { gitignore: "*.tmp\n" }, web: { gitignore: "build/\n!important.tmp\n" } });
    expect(r.ignores("web/build", true)).toBe(true);
    expect(r.ignores("build", true)).toBe(false);
    expect(r.ignores("web/x.tmp", false)).toBe(true);
    expect(r.ignores("web/important.tmp", false)).toBe(false);
  });

  it("treats an empty path as the root and never ignores it", () => {
    expect(rules({ "": { gitignore: "*\n" } }).ignores("", true)).toBe(false);
  });
});

describe("packFilter (on disk)", () => {
  let dir: string;
  afterAll(async () => dir && rm(dir, { recursive: true, force: true }));

  it("reads the ignore files and tells directories from files", async () => {
    dir = await mkdtemp(join(tmpdir(), "ctrl-ignore-"));
    await mkdir(join(dir, "out"));
    await writeFile(join(dir, "out-file"), "x");
    await writeFile(join(dir, ".gitignore"), "out/\nout-file/\n");
    await writeFile(join(dir, ".ctrlignore"), "*.secret\n");
    await writeFile(join(dir, "a.secret"), "x");
    const ignore = packFilter(dir);
    expect(ignore("out")).toBe(true);
    expect(ignore("out-file")).toBe(false);
    expect(ignore("a.secret")).toBe(true);
    expect(ignore(".ctrlignore")).toBe(false);
  });
});

describe("ignore files above the context", () => {
  let repo: string;
  afterAll(async () => repo && rm(repo, { recursive: true, force: true }));

  it("applies the checkout's .gitignore files above the context, and the context's own ones after them", async () => {
    repo = await mkdtemp(join(tmpdir(), "ctrl-ignore-repo-"));
    await mkdir(join(repo, ".git"));
    await mkdir(join(repo, "apps", "web"), { recursive: true });
    await writeFile(join(repo, ".gitignore"), ".env\n/apps/web/local.txt\n*.log\n");
    await writeFile(join(repo, "apps", ".gitignore"), "coverage/\n");
    await writeFile(join(repo, "apps", "web", ".ctrlignore"), "!debug.log\n");
    const ancestors = ancestorGitignores(join(repo, "apps", "web"));
    expect(ancestors.map((a) => a.prefix)).toEqual(["apps/web/", "web/"]);
    const ignore = packFilter(join(repo, "apps", "web"));
    expect(ignore(".env")).toBe(true);
    expect(ignore("local.txt")).toBe(true); // anchored to the checkout's root
    expect(ignore("app.log")).toBe(true);
    expect(ignore("debug.log")).toBe(false); // re-included by the context's .ctrlignore
    await mkdir(join(repo, "apps", "web", "coverage"));
    expect(ignore("coverage")).toBe(true);
    expect(ignore("server.js")).toBe(false);
  });

  it("applies none outside a git checkout", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ctrl-ignore-nogit-"));
    try {
      expect(ancestorGitignores(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
