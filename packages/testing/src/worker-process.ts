import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { startProcess, type ManagedProcess } from "./process.js";
import { freePort, waitFor, waitForPortFree } from "./wait.js";

const require = createRequire(import.meta.url);

/** Options for {@link startWorkerProcess}. */
export interface WorkerProcessOptions {
  /** Path of the TypeScript entry file, e.g. `apps/ctrl-worker/src/main.ts`. */
  entry: string;
  /** Env on top of `process.env`: DATABASE_URL, RESTATE_ADMIN_URL, LOG_LEVEL, … */
  env?: Record<string, string>;
  /** Restate endpoint port (`WORKER_PORT`); a free one by default. Pass the old one to restart in place. */
  port?: number;
  /** Health port (`WORKER_HEALTH_PORT`); a free one by default. */
  healthPort?: number;
  /** Label for failure messages. */
  name?: string;
  cwd?: string;
  /** Sees every output line (e.g. to print it while debugging). */
  onLine?: (line: string) => void;
}

/** A worker (or any service following the WORKER_PORT / WORKER_HEALTH_PORT convention) running as a real child process. */
export interface WorkerProcess {
  readonly process: ManagedProcess;
  readonly pid: number;
  readonly port: number;
  readonly healthPort: number;
  /** What restate-server calls: `http://127.0.0.1:<port>`. */
  readonly endpointUrl: string;
  readonly healthUrl: string;
  /** Every output line so far (pino JSON lines for our services). */
  lines(): string[];
  /** Resolves with the first output line matching `pattern` (already printed or still to come). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves once `GET /health` answers 200; fails early, with the output, if the process exits. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** SIGKILL by pid (a crash: no shutdown hooks run), then waits until both ports are free. */
  kill(): Promise<void>;
  /** SIGTERM (graceful shutdown), SIGKILL after `graceMs`, then waits until both ports are free. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `entry` as a child process with tsx loaded in-process (`node --import tsx entry`), so the
 * pid is the service itself: SIGKILL to it is a real crash, not the death of a `tsx` wrapper that
 * would leave the service running as an orphan. Other engineers reuse this for crash tests.
 */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  // Long because spawn, readiness and the kill/restart handle share the child and its ports.
  const port = options.port ?? (await freePort());
  const healthPort = options.healthPort ?? (await freePort());
  const name = options.name ?? "worker";
  const all: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const tsxLoader = pathToFileURL(require.resolve("tsx")).href;
  const proc = startProcess(name, process.execPath, ["--import", tsxLoader, options.entry], {
    cwd: options.cwd,
    env: {
      ...process.env,
      ...options.env,
      WORKER_HOST: "127.0.0.1",
      WORKER_PORT: String(port),
      WORKER_HEALTH_PORT: String(healthPort),
    },
    onLine: (line) => {
      all.push(line);
      options.onLine?.(line);
      for (const w of waiters) {
        if (w.pattern.test(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    },
  });
  if (proc.child.pid === undefined) {
    await proc.exited;
    throw new Error(`${name}: could not spawn ${options.entry}\n${proc.tail()}`);
  }
  const isRunning = () => proc.child.exitCode === null && proc.child.signalCode === null;
  const diagnose = (what: string) => `${name} (pid ${proc.child.pid}) ${what}\n--- last output ---\n${proc.tail(60)}`;
  const portsFree = async () => {
    await Promise.all([waitForPortFree(port), waitForPortFree(healthPort)]);
  };

  return {
    process: proc,
    pid: proc.child.pid,
    port,
    healthPort,
    endpointUrl: `http://127.0.0.1:${port}`,
    healthUrl: `http://127.0.0.1:${healthPort}/health`,
    lines: () => [...all],
    waitForLine(pattern, timeoutMs = 20_000) {
      const seen = all.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const waiter = { pattern, resolve: (line: string) => (clearTimeout(timer), resolve(line)) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(diagnose(`printed no line matching ${pattern} within ${timeoutMs} ms`)));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    async waitHealthy(timeoutMs = 30_000) {
      try {
        await waitFor(
          `${name} /health to answer 200`,
          async () => {
            if (!isRunning()) throw new Error("exited");
            return (await fetch(`http://127.0.0.1:${healthPort}/health`)).status === 200;
          },
          { timeoutMs, intervalMs: 50 },
        );
      } catch (err) {
        throw new Error(
          diagnose(
            isRunning()
              ? `did not become healthy: ${(err as Error).message}`
              : `exited (${JSON.stringify(await proc.exited)}) before becoming healthy`,
          ),
        );
      }
    },
    async kill() {
      await proc.kill();
      await portsFree();
    },
    async stop(graceMs = 5_000) {
      await proc.stop(graceMs);
      await portsFree();
    },
  };
}
