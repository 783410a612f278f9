import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Command } from "./plan.js";

/** Options for {@link runCommand}. */
export interface RunOptions {
  cwd: string;
  /** The complete environment of the command (nothing is inherited). */
  env: Record<string, string>;
  /** Wall-clock limit; the whole process group is killed when it passes. */
  timeoutMs: number;
  /** Every output line (stdout and stderr interleaved as they arrive). */
  onLine?: (line: string) => void;
  /** How many trailing lines to keep for the result (error messages). Default 30. */
  tailLines?: number;
  signal?: AbortSignal;
  /** Wraps the command's argv (e.g. in a sandbox); runs inside `timeout`, so the deadline covers it. */
  wrap?: (argv: string[]) => string[];
}

/** How a command ended. */
export interface RunResult {
  /** Exit code, or null when killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The last output lines. */
  tail: string[];
}

/** Longest line kept; longer ones are cut (a minified bundle printed to stdout must not fill the log). */
export const maxLineLength = 4096;

// coreutils `timeout` puts the command in its own process group and kills that group at the
// deadline, so a build outlives neither its timeout nor a worker that was SIGKILLed mid-build.
const timeoutBinary = ["/usr/bin/timeout", "/bin/timeout"].find((p) => existsSync(p));

/**
 * Runs `command` in `cwd` with exactly `env`, in a new process group, bounded by `timeoutMs`.
 * Never throws for a failing command: the caller decides from {@link RunResult}.
 */
export function runCommand(command: Command, options: RunOptions): Promise<RunResult> {
  const argv = typeof command === "string" ? ["/bin/sh", "-c", command] : command;
  const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  const wrapped = options.wrap ? options.wrap(argv) : argv;
  const full = timeoutBinary ? [timeoutBinary, "--kill-after=5", String(seconds), ...wrapped] : wrapped;
  const keep = options.tailLines ?? 30;
  const tail: string[] = [];
  const emit = (line: string) => {
    const cut = line.length > maxLineLength ? `${line.slice(0, maxLineLength)}… (line cut at ${maxLineLength} characters)` : line;
    tail.push(cut);
    if (tail.length > keep) tail.shift();
    options.onLine?.(cut);
  };

  const startedAt = Date.now();
  return new Promise((resolve) => {
    const child = spawn(full[0]!, full.slice(1), { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let timedOut = false;
    let settled = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    // Our own deadline backs up `timeout` (and is the only one where coreutils is missing).
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs + 6_000);
    const onAbort = () => killGroup();
    options.signal?.addEventListener("abort", onAbort, { once: true });

    const splitter = () => {
      let partial = "";
      return {
        push(chunk: Buffer) {
          const text = partial + chunk.toString("utf8");
          const parts = text.split(/\r?\n|\r/);
          partial = parts.pop() ?? "";
          for (const p of parts) emit(p);
          if (partial.length > maxLineLength) {
            emit(partial);
            partial = "";
          }
        },
        end() {
          if (partial) emit(partial);
          partial = "";
        },
      };
    };
    const out = splitter();
    const err = splitter();
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));

    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      out.end();
      err.end();
      // `timeout` exits 124 when it stopped the command, 137 when it had to SIGKILL it (an app killed
      // by SIGKILL for another reason, e.g. the OOM killer, also gives 137: count it only after the deadline).
      if (timeoutBinary && (exitCode === 124 || (exitCode === 137 && Date.now() - startedAt >= options.timeoutMs))) timedOut = true;
      resolve({ exitCode, signal, timedOut, tail });
    };
    child.once("error", (e) => {
      emit(`cannot start ${argv[0]}: ${e.message}`);
      finish(127, null);
    });
    child.once("close", (code, signal) => finish(code, signal));
  });
}
