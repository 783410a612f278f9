import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync } from "node:fs";

/**
 * A child process started by a test or the dev stack. It runs in its own process group, and stop/kill
 * signal that group, so a wrapper (`sh -c …`, npm) never leaves its children behind; processes that
 * deliberately start their own group (krane's instances) are not touched.
 */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal) when the process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines of its output (for failure messages). */
  tail(lines?: number): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once no process of the group is left. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to the group now; resolves once no process of the group is left. */
  kill(): Promise<void>;
}

/** Options for {@link startProcess}. */
export interface StartProcessOptions extends SpawnOptions {
  /** Also write output to this file. */
  logFile?: string;
  /** Forward output lines to this function (e.g. prefixing for the dev stack). */
  onLine?: (line: string) => void;
}

/** Spawns `command` with its output captured in a ring buffer. */
export function startProcess(name: string, command: string, args: string[], options: StartProcessOptions = {}): ManagedProcess {
  const { logFile, onLine, ...spawnOptions } = options;
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], detached: true, ...spawnOptions });
  const ring: string[] = [];
  const file = logFile ? createWriteStream(logFile, { flags: "a" }) : undefined;
  const onData = (chunk: Buffer) => {
    file?.write(chunk);
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line) continue;
      ring.push(line);
      if (ring.length > 400) ring.shift();
      onLine?.(line);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      file?.end();
      resolve({ code, signal });
    });
    child.once("error", (err) => {
      ring.push(`spawn error: ${err.message}`);
      resolve({ code: -1, signal: null });
    });
  });
  const isRunning = () => child.exitCode === null && child.signalCode === null;
  /** Signals the child's process group (falls back to the child when it has no group of its own). */
  const signal = (sig: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      if (isRunning()) child.kill(sig);
    }
  };
  /** Waits until no live process is left in the child's group; false after `timeoutMs`. */
  const groupGone = async (timeoutMs: number) => {
    if (child.pid === undefined || spawnOptions.detached === false) return true;
    const deadline = Date.now() + timeoutMs;
    while (liveGroupMembers(child.pid).length > 0) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  };
  return {
    name,
    child,
    exited,
    tail: (lines = 40) => ring.slice(-lines).join("\n"),
    async stop(graceMs = 5_000) {
      // The group is signalled even when the direct child has exited: its children may not have.
      // It resolves once the whole group is gone, not just the direct child, so a grandchild that
      // still holds a port is never mistaken for a stopped process.
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), graceMs);
      try {
        if (isRunning()) await exited;
        if (!(await groupGone(graceMs))) {
          signal("SIGKILL");
          await groupGone(5_000);
        }
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      signal("SIGKILL");
      await exited;
      await groupGone(5_000);
    },
  };
}

/**
 * Live members of process group `pgid` (zombies excluded), read from /proc: the leak detector for a
 * {@link ManagedProcess}, whose group id is its pid. After `stop()`/`kill()` this must be empty; a
 * test that sees pids here left processes running. Linux only (empty where /proc is missing).
 */
export function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return members;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …": comm may contain spaces and parentheses, so split after the last ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") members.push(Number(entry));
  }
  return members;
}
