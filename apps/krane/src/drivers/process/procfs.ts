import { readdir, readFile } from "node:fs/promises";

/** What /proc/<pid>/stat tells about a process (Linux only: the process driver needs procfs). */
export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), X (dead), … */
  state: string;
  pgid: number;
  /** Clock ticks since boot when it started: with the pid, a process identity that survives pid reuse. */
  starttime: string;
}

/** Reads /proc/<pid>/stat, or undefined when the process does not exist. */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself contain spaces or ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { pid, state: rest[0] ?? "?", pgid: Number(rest[2]), starttime: rest[19] ?? "" };
}

/** True when `pid` is a live (not zombie) process that started at `starttime`. */
export async function isSameLiveProcess(pid: number, starttime: string): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X" && stat.starttime === starttime;
}

/** Live members of a process group, found by scanning /proc. */
export async function groupMembers(pgid: number): Promise<number[]> {
  const pids = (await readdir("/proc")).filter((d) => /^\d+$/.test(d)).map(Number);
  const stats = await Promise.all(pids.map(readProcStat));
  return stats.filter((s): s is ProcStat => s !== undefined && s.pgid === pgid && s.state !== "Z" && s.state !== "X").map((s) => s.pid);
}

/** True when the process's environment contains exactly `entry` (e.g. `CTRL_INSTANCE_ID=x`). */
export async function environHas(pid: number, entry: string): Promise<boolean> {
  try {
    const env = await readFile(`/proc/${pid}/environ`, "utf8");
    return env.split("\0").includes(entry);
  } catch {
    return false;
  }
}

/** Sends `signal` (0: only checks) to every process of group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

/**
 * Resolves true once group `pgid` has no live member, false at the deadline. Polls the cheap
 * `kill(-pgid, 0)` often and scans /proc (which discounts zombies whose parent has not reaped them)
 * only every half second: a full scan per poll would cost more than the processes being stopped.
 */
export async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let nextScan = Date.now() + 500;
  for (;;) {
    if (!signalGroup(pgid, 0)) return true;
    if (Date.now() >= nextScan) {
      if ((await groupMembers(pgid)).length === 0) return true;
      nextScan = Date.now() + 500;
    }
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
