import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseBranch, parseGitLog, readGitMetadata } from "./git.js";

const sha = "0123456789abcdef0123456789abcdef01234567";

describe("parseGitLog", () => {
  it("parses sha, author, time and a multi-line message", () => {
    expect(parseGitLog(`${sha}\0Ada Lovelace\0ada@example.com\x001700000000\0Fix the thing\n\nLonger body\n`)).toEqual({
      sha,
      authorName: "Ada Lovelace",
      authorEmail: "ada@example.com",
      timestampMs: 1_700_000_000_000,
      message: "Fix the thing\n\nLonger body",
    });
  });

  it("rejects what is not git log output", () => {
    expect(parseGitLog("")).toBeUndefined();
    expect(parseGitLog("fatal: not a git repository")).toBeUndefined();
    expect(parseGitLog(`${sha}\0a\0b\0yesterday\0msg`)).toBeUndefined();
    expect(parseGitLog(`abc\0a\0b\x001\0msg`)).toBeUndefined();
  });

  it("parses the branch and treats a detached HEAD as none", () => {
    expect(parseBranch("feature/x\n")).toBe("feature/x");
    expect(parseBranch("HEAD\n")).toBeUndefined();
    expect(parseBranch("")).toBeUndefined();
  });
});

describe("readGitMetadata (real git)", () => {
  let dir: string;
  afterAll(async () => dir && rm(dir, { recursive: true, force: true }));

  it("reads a checkout's HEAD, branch and dirtiness, and nothing outside a checkout", async () => {
    dir = await mkdtemp(join(tmpdir(), "ctrl-git-"));
    const plain = await mkdtemp(join(tmpdir(), "ctrl-nogit-"));
    expect(await readGitMetadata(plain)).toBeUndefined();
    await rm(plain, { recursive: true });

    const git = (...args: string[]) =>
      execFileSync("git", ["-C", dir, ...args], {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: "Grace",
          GIT_AUTHOR_EMAIL: "grace@example.com",
          GIT_COMMITTER_NAME: "Grace",
          GIT_COMMITTER_EMAIL: "grace@example.com",
          GIT_AUTHOR_DATE: "1700000000 +0000",
          GIT_COMMITTER_DATE: "1700000000 +0000",
        },
      }).toString();
    git("init", "-q", "-b", "release/1.0");
    await writeFile(join(dir, "a.txt"), "1");
    git("add", ".");
    git("commit", "-q", "-m", "First commit\n\nWith a body");
    const meta = await readGitMetadata(dir);
    expect(meta).toMatchObject({
      branch: "release/1.0",
      message: "First commit\n\nWith a body",
      authorName: "Grace",
      authorEmail: "grace@example.com",
      timestampMs: 1_700_000_000_000,
      dirty: false,
    });
    expect(meta?.sha).toBe(git("rev-parse", "HEAD").trim());
    await writeFile(join(dir, "a.txt"), "2");
    expect((await readGitMetadata(dir))?.dirty).toBe(true);
    git("checkout", "-q", "--detach");
    expect((await readGitMetadata(dir))?.branch).toBeUndefined();
  });
});
