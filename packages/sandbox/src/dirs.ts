import { execFileSync } from "node:child_process";
import { chmod, chown, copyFile, lchown, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { bridgeScript } from "./argv.js";

/**
 * bwrap runs as the workload's unprivileged uid, so it resolves its mount sources with that uid's
 * permissions: every directory on the way to a mounted path must be searchable by it. This makes
 * `dir` searchable but not listable (0711) — no sandboxed code ever runs with the host's file
 * system in view, so this opens nothing to tenants; the files below keep their own modes.
 */
export async function makeTraversable(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o711);
}

/** Creates `dir` owned by the workload's uid/gid, mode 0700: its private writable directory. */
export async function makeWorkloadDir(dir: string, uid: number, gid: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await chown(dir, uid, gid);
  await chmod(dir, 0o700);
}

/**
 * Copies the in-sandbox relay into `dir` (made traversable) and returns its path: the repository
 * itself may sit where workload uids cannot reach it (e.g. under /root).
 */
export async function installBridge(dir: string): Promise<string> {
  await makeTraversable(dir);
  const target = join(dir, "bridge.mjs");
  await copyFile(bridgeScript, target);
  await chmod(target, 0o644);
  return target;
}

/** Gives `dir` and everything under it (links themselves, never their targets) to uid/gid. */
export async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await lchown(dir, uid, gid);
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }))
    await lchown(join(entry.parentPath, entry.name), uid, gid);
}

/**
 * True when an unprivileged uid (nobody) can reach `path`: bwrap runs as the workload's uid and
 * must be able to walk to every mount source.
 */
export function reachableByWorkloads(setpriv: string, path: string): boolean {
  try {
    execFileSync(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "/usr/bin/test", "-x", path], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
