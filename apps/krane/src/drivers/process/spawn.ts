import { closeListener, listenOnHost } from "@ctrl/sandbox";
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { rm } from "node:fs/promises";
import { readExitCode, signalExitCode } from "./exit-status.js";
import { haltFileOf, type InstanceRecord, type LaunchSpec } from "./instance-record.js";
import { readProcStat } from "./procfs.js";

/**
 * Runs the command, then records its exit code in a file named by $0, atomically. The shim is the
 * leader of the instance's own process group (spawned detached), so the instance survives the
 * agent, and a restarted agent can still learn the exit code of an instance it did not spawn.
 */
const shimScript = `"$@"; code=$?; printf '%s' "$code" > "$0.tmp" && mv -f "$0.tmp" "$0"; exit "$code"`;

/** How a spawn went: abandoned (its run was superseded meanwhile), failed before a process existed, or spawned. */
export type SpawnResult =
  | { outcome: "abandoned" }
  | { outcome: "failed"; reason: string }
  | {
      outcome: "spawned";
      pid: number;
      /** /proc starttime of the shim ("" when it was gone already). */
      starttime: string;
      /** Resolves with its exit code (from the exit file, else from the signal or code) once it exits. */
      exited: Promise<number | undefined>;
    };

/**
 * Spawns the instance's shim detached, with stdout and stderr appended to its log and (sandboxed
 * with its own network) the host listener as fd 3. Clears the previous run's exit and halt files
 * first. `current` tells whether the run is still wanted after each wait.
 */
export async function spawnInstance(record: InstanceRecord, spec: LaunchSpec, current: () => boolean): Promise<SpawnResult> {
  await rm(record.exitFile, { force: true });
  await rm(haltFileOf(record), { force: true });
  let listener: Awaited<ReturnType<typeof listenOnHost>> | undefined;
  if (spec.listenPort !== undefined) {
    try {
      listener = await listenOnHost(spec.listenPort);
    } catch (err) {
      return { outcome: "failed", reason: `cannot listen on 127.0.0.1:${spec.listenPort} for the instance: ${(err as Error).message}` };
    }
    if (!current()) {
      await closeListener(listener.server);
      return { outcome: "abandoned" };
    }
  }
  const fd = openSync(record.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn("/bin/sh", ["-c", shimScript, record.exitFile, ...spec.argv], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: listener ? ["ignore", fd, fd, listener.fd] : ["ignore", fd, fd],
    });
  } finally {
    closeSync(fd);
    // The child holds its own copy of the socket now; ours must not accept anything.
    if (listener) await closeListener(listener.server);
  }
  // Listen at once: a fast crash can exit before the awaits below finish.
  const exited = new Promise<number | undefined>((resolve) => {
    child.once("exit", (code, signal) => {
      void readExitCode(record).then((fromFile) => resolve(fromFile ?? (signal ? signalExitCode(signal) : (code ?? undefined))));
    });
  });
  const pid = child.pid;
  if (pid === undefined) {
    await new Promise((r) => child.once("error", r));
    return { outcome: "failed", reason: "spawn failed" };
  }
  child.unref();
  const stat = await readProcStat(pid);
  return { outcome: "spawned", pid, starttime: stat?.starttime ?? "", exited };
}
