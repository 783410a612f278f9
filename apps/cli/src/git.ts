import { execFile } from "node:child_process";

/** What the CLI sends as `gitCommit` and `branch` when the directory is a git checkout. */
export interface GitMetadata {
  sha: string;
  /** Undefined on a detached HEAD. */
  branch?: string;
  message: string;
  authorName: string;
  authorEmail: string;
  /** Commit time, Unix milliseconds. */
  timestampMs: number;
  /** True when the working tree has uncommitted changes (they are deployed, the sha is not all of it). */
  dirty: boolean;
}

/** `git log -1` format the parser expects: fields separated by NUL. */
export const gitLogFormat = "%H%x00%an%x00%ae%x00%ct%x00%B";

/** Parses `git log -1 --format=<gitLogFormat>` output; undefined when it is not that. */
export function parseGitLog(
  output: string,
): Pick<GitMetadata, "sha" | "message" | "authorName" | "authorEmail" | "timestampMs"> | undefined {
  const [sha, authorName, authorEmail, seconds, ...body] = output.split("\0");
  if (!sha || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha.trim())) return undefined;
  if (!seconds || !/^\d+$/.test(seconds.trim())) return undefined;
  return {
    sha: sha.trim(),
    authorName: (authorName ?? "").trim(),
    authorEmail: (authorEmail ?? "").trim(),
    timestampMs: Number(seconds.trim()) * 1000,
    message: body.join("\0").trim(),
  };
}

/** The branch from `git rev-parse --abbrev-ref HEAD`, or undefined for a detached HEAD. */
export function parseBranch(output: string): string | undefined {
  const branch = output.trim();
  return branch && branch !== "HEAD" ? branch : undefined;
}

function git(dir: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(
      "git",
      ["-C", dir, ...args],
      { timeout: 10_000, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" } },
      (err, stdout) => {
        resolve(err ? undefined : stdout);
      },
    );
  });
}

/** Reads the checkout's HEAD commit, branch and dirtiness; undefined when `dir` is not in a git checkout (or git is missing). */
export async function readGitMetadata(dir: string): Promise<GitMetadata | undefined> {
  const inside = await git(dir, ["rev-parse", "--is-inside-work-tree"]);
  if (inside?.trim() !== "true") return undefined;
  const [log, branch, status] = await Promise.all([
    git(dir, ["log", "-1", `--format=${gitLogFormat}`]),
    git(dir, ["rev-parse", "--abbrev-ref", "HEAD"]),
    git(dir, ["status", "--porcelain", "--", "."]),
  ]);
  const commit = log ? parseGitLog(log) : undefined;
  if (!commit) return undefined;
  const b = branch ? parseBranch(branch) : undefined;
  return { ...commit, ...(b ? { branch: b } : {}), dirty: (status ?? "").trim().length > 0 };
}
