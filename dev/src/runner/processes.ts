import { readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { ManagedProcess } from "@ctrl/testing";

/** One line of the pid file. */
export interface PidEntry {
  name: string;
  /** Also its process group id (services run detached). */
  pid: number;
  /** Start time from /proc (clock ticks since boot): tells a live process from a reused pid. */
  startTime: string | undefined;
}

/** Field 22 of /proc/<pid>/stat, or undefined without /proc. */
export function processStartTime(pid: number | undefined): string | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: count from the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * The entries of a pid file whose process still runs (same pid and start time: a reused pid is not
 * reported). Empty when there is no file.
 */
export async function leftoverProcesses(pidFile: string): Promise<PidEntry[]> {
  let entries: PidEntry[];
  try {
    entries = JSON.parse(await readFile(pidFile, "utf8")) as PidEntry[];
  } catch {
    return [];
  }
  return entries.filter((e) => e.startTime !== undefined && processStartTime(e.pid) === e.startTime);
}

/** Sends `signal` to the process group of `proc` (services run detached); false when there is none. */
export function signalGroup(proc: ManagedProcess, signal: NodeJS.Signals): boolean {
  const pid = proc.child.pid;
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the group, SIGKILL to it after `graceMs`, and SIGKILL to anything left once the leader exits. */
export async function stopGroup(proc: ManagedProcess, graceMs: number): Promise<void> {
  // Snapshot the process tree first: children that moved to groups or sessions of their own (krane's
  // instances and sentinels) are not reached by the group signal, and are re-parented once it exits.
  // Re-taken while it shuts down, so that a child spawned during shutdown is known too.
  const tree = new Map<string, ProcessId>();
  const snapshot = () => {
    if (proc.child.pid === undefined) return;
    for (const p of descendantsOf(proc.child.pid)) tree.set(`${p.pid}:${p.startTime}`, p);
  };
  snapshot();
  signalGroup(proc, "SIGTERM");
  const timer = setTimeout(() => signalGroup(proc, "SIGKILL"), graceMs);
  const poll = setInterval(snapshot, 100);
  await proc.exited;
  clearTimeout(timer);
  clearInterval(poll);
  // A child that outlived its leader (e.g. tsx's program) would keep its port: end it too.
  signalGroup(proc, "SIGKILL");
  const left = [...tree.values()].filter((p) => isRunning(p));
  if (!left.length) return;
  for (const p of left) signalPid(p.pid, "SIGTERM");
  const deadline = Date.now() + 3_000;
  while (Date.now() < deadline && left.some((p) => isRunning(p))) await new Promise((r) => setTimeout(r, 50));
  for (const p of left) if (isRunning(p)) signalPid(p.pid, "SIGKILL");
}

/** A process identified by pid and start time (so a reused pid is never mistaken for it). */
export interface ProcessId {
  pid: number;
  startTime: string;
}

interface ProcStat extends ProcessId {
  ppid: number;
  pgid: number;
  state: string;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { pid, state: fields[0]!, ppid: Number(fields[1]), pgid: Number(fields[2]), startTime: fields[19]! };
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return []; // no /proc (macOS): only the group signals apply
  }
}

/** Every live descendant of `root` (children, their children, …), from /proc. */
export function descendantsOf(root: number): ProcessId[] {
  const children = new Map<number, ProcStat[]>();
  for (const pid of allPids()) {
    const st = readStat(pid);
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(st);
    children.set(st.ppid, list);
  }
  const out: ProcessId[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push({ pid: child.pid, startTime: child.startTime });
      queue.push(child.pid);
    }
  }
  return out;
}

/** True while `p` runs (same start time, not a zombie). */
export function isRunning(p: ProcessId): boolean {
  const st = readStat(p.pid);
  return st !== undefined && st.startTime === p.startTime && st.state !== "Z" && st.state !== "X";
}

/**
 * Live processes whose command line or environment mentions `dir` (a stack's data dir): what a killed
 * stack left behind. The environment catches children of services too (they inherit it).
 */
export function processesMentioning(dir: string): (ProcessId & { pgid: number; cmdline: string })[] {
  const out: (ProcessId & { pgid: number; cmdline: string })[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
      const environ = cmdline.includes(dir) ? "" : readFileSync(`/proc/${pid}/environ`, "utf8");
      const st = readStat(pid);
      if (st && (cmdline.includes(dir) || environ.includes(dir)) && isRunning(st))
        out.push({ pid, pgid: st.pgid, startTime: st.startTime, cmdline });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
