import { createWriteStream, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { startProcess, waitFor, type ManagedProcess } from "@ctrl/testing";
import { stripAnsi } from "./logs.js";

/** Values produced by tasks (e.g. the seed's root key), keyed by task name. */
export type Outputs = Record<string, unknown>;

/** How the runner knows a service is ready. Every check has a deadline. */
export type Readiness =
  /** An HTTP GET answers `status` (default 200). */
  | { http: string; status?: number }
  /** A TCP connection to host:port succeeds. */
  | { tcp: { host: string; port: number } }
  /** Any check: truthy means ready, a throw or falsy means not yet. */
  | { probe: string; check: () => Promise<boolean> };

interface StepBase {
  /** Unique; also the log prefix. */
  name: string;
  /** Steps that must be ready (services) or done (tasks) before this one starts. */
  after?: string[];
  /**
   * `true` to run it, or a sentence saying why it is skipped (printed). A skipped step counts as
   * ready for the steps that come after it.
   */
  enabled?: () => true | string;
}

/** A long-running child process. */
export interface ServiceSpec extends StepBase {
  kind: "service";
  command: string;
  args: string[];
  cwd?: string;
  /** Merged over the stack's own environment; a function sees the outputs of earlier tasks. */
  env?: Record<string, string> | ((outputs: Outputs) => Record<string, string>);
  /** Ports it will listen on, by label; all are checked before anything starts. */
  ports?: Record<string, number>;
  /** Runs before spawning (write a config file, initialise a data dir). */
  prepare?: (log: (line: string) => void) => Promise<void>;
  ready: Readiness;
  /** Deadline of the readiness check (default 60 s). */
  readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace on stop (default 5 s). */
  graceMs?: number;
  /** Printed in the summary once the stack is up. */
  urls?: Record<string, string>;
  /** Rewrites (or, returning undefined, drops) a line of its output before it is shown and logged. */
  formatLine?: (line: string) => string | undefined;
}

/** A one-shot step run inside the stack process (migrations, seed, packing an artifact). */
export interface TaskSpec extends StepBase {
  kind: "task";
  /** Its resolved value is stored in `outputs[name]`. */
  run: (outputs: Outputs, log: (line: string) => void) => Promise<unknown>;
}

/** One entry of the stack's declarative list. */
export type StepSpec = ServiceSpec | TaskSpec;

/** A port that something else already listens on. */
export interface BusyPort {
  step: string;
  label: string;
  port: number;
}

/** Thrown before anything starts when ports are taken; the message names each of them. */
export class PortsBusyError extends Error {
  constructor(readonly busy: BusyPort[]) {
    super(
      [
        `cannot start: ${busy.length === 1 ? "a port is" : "ports are"} already in use:`,
        ...busy.map((b) => `  ${b.port}  (${b.step} ${b.label}) — see who holds it: ss -ltnp 'sport = :${b.port}'`),
        "Stop whatever holds it (a previous `pnpm dev` still running?) or move ours with the CTRL_DEV_*_PORT variables (dev/README.md).",
      ].join("\n"),
    );
  }
}

/** Thrown when a step fails to start; carries the last output lines of the failing process. */
export class StepFailedError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(`${step}: ${message}`);
  }
}

/** Thrown by steps that were still starting when the stack was stopped (or another step failed). */
export class StackStoppedError extends Error {
  constructor() {
    super("the stack was stopped while starting");
  }
}

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
    validate(specs);
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

function validate(specs: readonly StepSpec[]): void {
  const names = new Set<string>();
  for (const s of specs) {
    if (names.has(s.name)) throw new Error(`dev stack: two steps are named "${s.name}"`);
    names.add(s.name);
  }
  for (const s of specs) {
    for (const dep of s.after ?? []) if (!names.has(dep)) throw new Error(`dev stack: "${s.name}" comes after unknown step "${dep}"`);
  }
  // Depth-first search for a cycle, naming it.
  const state = new Map<string, "visiting" | "done">();
  const byName = new Map(specs.map((s) => [s.name, s]));
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw new Error(`dev stack: dependency cycle ${[...path, name].join(" → ")}`);
    state.set(name, "visiting");
    for (const dep of byName.get(name)?.after ?? []) visit(dep, [...path, name]);
    state.set(name, "done");
  };
  for (const s of specs) visit(s.name, []);
}

async function waitReady(ready: Readiness, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(new StackStoppedError());
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
  aborted.catch(() => undefined);
  await Promise.race([aborted, pollReady(ready, timeoutMs, signal)]);
}

async function pollReady(ready: Readiness, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const opts = { timeoutMs, intervalMs: 100 };
  // Once aborted, a check ends the poll loop with a throw-free `true` (the race has settled already).
  const guard =
    <T>(check: () => Promise<T>) =>
    async () =>
      signal.aborted ? true : check();
  if ("http" in ready) {
    const status = ready.status ?? 200;
    await waitFor(
      `GET ${ready.http} to answer ${status}`,
      guard(async () => {
        const res = await fetch(ready.http, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        return res.status === status;
      }),
      opts,
    );
  } else if ("tcp" in ready) {
    const { host, port } = ready.tcp;
    await waitFor(
      `${host}:${port} to accept connections`,
      guard(() => canConnect(host, port)),
      opts,
    );
  } else {
    await waitFor(ready.probe, guard(ready.check), opts);
  }
}

/** True when a TCP connection to host:port succeeds within a second. */
export async function canConnect(host: string, port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** True when nothing listens on `port` (we can bind it on all IPv4 interfaces and on loopback). */
export async function isPortFree(port: number): Promise<boolean> {
  const tryBind = (host: string) =>
    new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once("error", (err: NodeJS.ErrnoException) => resolve(err.code !== "EADDRINUSE" && err.code !== "EACCES"));
      srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
    });
  return (await tryBind("127.0.0.1")) && (await tryBind("0.0.0.0"));
}

function signalGroup(proc: ManagedProcess, signal: NodeJS.Signals): boolean {
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
async function stopGroup(proc: ManagedProcess, graceMs: number): Promise<void> {
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
