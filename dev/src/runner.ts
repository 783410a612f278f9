import { createWriteStream, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { startProcess, type ManagedProcess } from "@ctrl/testing";
import { stripAnsi } from "./logs.js";
import { processStartTime, signalGroup, stopGroup, type PidEntry } from "./runner/processes.js";
import { isPortFree, waitReady } from "./runner/readiness.js";
import {
  PortsBusyError,
  StackStoppedError,
  StepFailedError,
  validateSpecs,
  type BusyPort,
  type Outputs,
  type ServiceSpec,
  type StepSpec,
} from "./runner/step-spec.js";

export * from "./runner/processes.js";
export { canConnect, isPortFree } from "./runner/readiness.js";
export * from "./runner/step-spec.js";

/** What the runner reports to its caller. */
export interface RunnerEvents {
  /** A line of output of a process, or a status line of the runner (`name` = the step). */
  line(name: string, line: string): void;
  /** A service exited while the stack was up (not during stop). */
  crashed?(name: string, exit: { code: number | null; signal: NodeJS.Signals | null }, tail: string): void;
}

interface Running {
  spec: ServiceSpec;
  proc: ManagedProcess;
}

/**
 * Starts a declarative list of steps in dependency order (independent ones in parallel), waits for
 * each service's readiness, and stops everything it started in reverse order. Services run in their
 * own process group, so a SIGKILL after the grace also reaches their children (e.g. a shell wrapper's
 * child), and a Ctrl-C in the terminal reaches only the stack, which then stops them in order.
 */
export class StackRunner {
  /** Values of finished tasks. */
  readonly outputs: Outputs = {};
  /** Steps skipped, with the reason. */
  readonly skipped: { name: string; reason: string }[] = [];
  private readonly running: Running[] = [];
  private readonly enabled: StepSpec[];
  private stopping = false;
  private stopped: Promise<void> | undefined;
  // Aborted on stop or on the first failure, so parallel readiness waits end at once.
  private readonly abort = new AbortController();

  constructor(
    readonly specs: readonly StepSpec[],
    private readonly events: RunnerEvents,
    private readonly options: {
      /** Each service's output also goes to `<logDir>/<name>.log`. */
      logDir?: string;
      /**
       * Where the pids of running services are recorded (removed after a clean stop), so that a
       * later run can name the leftovers of a stack that was killed with SIGKILL.
       */
      pidFile?: string;
    } = {},
  ) {
    validateSpecs(specs);
    this.enabled = [];
    for (const spec of specs) {
      const verdict = spec.enabled?.() ?? true;
      if (verdict === true) this.enabled.push(spec);
      else this.skipped.push({ name: spec.name, reason: verdict });
    }
  }

  /** The enabled services, in list order (for the summary). */
  get services(): ServiceSpec[] {
    return this.enabled.filter((s): s is ServiceSpec => s.kind === "service");
  }

  /** Ports of enabled services that something already listens on. */
  async busyPorts(): Promise<BusyPort[]> {
    const busy: BusyPort[] = [];
    for (const spec of this.services) {
      for (const [label, port] of Object.entries(spec.ports ?? {})) {
        if (!(await isPortFree(port))) busy.push({ step: spec.name, label, port });
      }
    }
    return busy;
  }

  /**
   * Starts every enabled step. Rejects (after stopping what it started) with {@link PortsBusyError},
   * {@link StepFailedError}, or an error saying the stack was stopped while starting.
   */
  async start(): Promise<void> {
    const busy = await this.busyPorts();
    if (busy.length) throw new PortsBusyError(busy);
    for (const s of this.skipped) this.events.line(s.name, `skipped: ${s.reason}`);
    const done = new Map<string, Promise<void>>();
    const skippedNames = new Set(this.skipped.map((s) => s.name));
    // Specs are validated acyclic, and `after` only names earlier-or-later steps, so resolve lazily.
    const startOf = (name: string): Promise<void> => {
      const existing = done.get(name);
      if (existing) return existing;
      const spec = this.enabled.find((s) => s.name === name);
      const promise =
        skippedNames.has(name) || !spec ? Promise.resolve() : Promise.all((spec.after ?? []).map(startOf)).then(() => this.startStep(spec));
      done.set(name, promise);
      return promise;
    };
    const all = this.enabled.map((s) =>
      startOf(s.name).catch((err: unknown) => {
        this.abort.abort();
        throw err;
      }),
    );
    const results = await Promise.allSettled(all);
    // The first real failure, not the "stopped while starting" of the steps it cancelled.
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    const failure = failures.find((r) => !(r.reason instanceof StackStoppedError)) ?? failures[0];
    if (failure) {
      await this.stop();
      throw failure.reason;
    }
    if (this.abort.signal.aborted) throw new StackStoppedError();
  }

  /** Stops every started service in reverse start order: SIGTERM, then SIGKILL after its grace. */
  stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.stopped ??= (async () => {
      for (const { spec, proc } of [...this.running].reverse()) {
        if (proc.child.exitCode !== null || proc.child.signalCode !== null) continue;
        this.events.line(spec.name, `stopping (pid ${proc.child.pid})`);
        await stopGroup(proc, spec.graceMs ?? 5_000);
      }
      // Only a runner that started something owns the file (a refused start must not erase the record of leftovers).
      if (this.options.pidFile && this.running.length) await rm(this.options.pidFile, { force: true });
    })();
    return this.stopped;
  }

  /** Stops now: SIGKILL to every started process group (a second Ctrl-C). */
  killAll(): void {
    this.stopping = true;
    this.abort.abort();
    for (const { proc } of this.running) signalGroup(proc, "SIGKILL");
  }

  private writePidFile(): void {
    if (!this.options.pidFile) return;
    const entries: PidEntry[] = this.running.map(({ spec, proc }) => ({
      name: spec.name,
      pid: proc.child.pid ?? -1,
      startTime: processStartTime(proc.child.pid),
    }));
    writeFileSync(this.options.pidFile, JSON.stringify(entries, null, 2) + "\n");
  }

  private async startStep(spec: StepSpec): Promise<void> {
    if (this.abort.signal.aborted) throw new StackStoppedError();
    const log = (line: string) => this.events.line(spec.name, line);
    const started = Date.now();
    if (spec.kind === "task") {
      try {
        this.outputs[spec.name] = await spec.run(this.outputs, log);
      } catch (err) {
        throw new StepFailedError(spec.name, (err as Error).message);
      }
      log(`done in ${Date.now() - started} ms`);
      return;
    }
    if (spec.prepare) {
      try {
        await spec.prepare(log);
      } catch (err) {
        throw new StepFailedError(spec.name, `preparing failed: ${(err as Error).message}`);
      }
    }
    if (this.abort.signal.aborted) throw new StackStoppedError();
    const env = typeof spec.env === "function" ? spec.env(this.outputs) : spec.env;
    // Each process's output also goes to <logDir>/<name>.log (after formatLine, so redactions hold there too).
    const file = this.options.logDir ? createWriteStream(join(this.options.logDir, `${spec.name}.log`), { flags: "a" }) : undefined;
    const proc = startProcess(spec.name, spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...env },
      // Own process group: the terminal's Ctrl-C reaches only us, and we can signal the whole tree.
      detached: true,
      onLine: (line) => {
        const shown = spec.formatLine ? spec.formatLine(line) : line;
        if (shown === undefined) return;
        file?.write(`${stripAnsi(shown)}\n`);
        log(shown);
      },
    });
    void proc.exited.then(() => file?.end());
    this.running.push({ spec, proc });
    this.writePidFile();
    let ready = false;
    void proc.exited.then((exit) => {
      if (ready && !this.stopping) this.events.crashed?.(spec.name, exit, proc.tail(30));
    });
    log(`started pid ${proc.child.pid}: ${[spec.command, ...spec.args].join(" ")}`);
    const exitedEarly = proc.exited.then((exit) => {
      throw new StepFailedError(
        spec.name,
        `exited before it was ready (code ${exit.code}, signal ${exit.signal}); last output:\n${proc.tail(30)}`,
      );
    });
    const timeoutMs = spec.readyTimeoutMs ?? 60_000;
    try {
      await Promise.race([waitReady(spec.ready, timeoutMs, this.abort.signal), exitedEarly]);
    } catch (err) {
      if (err instanceof StepFailedError || err instanceof StackStoppedError) throw err;
      throw new StepFailedError(spec.name, `${(err as Error).message}; last output:\n${proc.tail(30)}`);
    }
    exitedEarly.catch(() => undefined);
    ready = true;
    log(`ready in ${Date.now() - started} ms`);
  }
}
