import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { open, readFile, rm, writeFile, rename, type FileHandle } from "node:fs/promises";
import { closeListener, listenOnHost } from "@ctrl/sandbox";
import type { Logger } from "pino";
import type { InstancePhase, WorkloadKind } from "../../workload.js";
import { environHas, groupMembers, isSameLiveProcess, readProcStat, signalGroup, waitGroupGone } from "./procfs.js";

/**
 * Runs the command, then records its exit code in a file named by $0, atomically. The shim is the
 * leader of the instance's own process group (spawned detached), so the instance survives the
 * agent, and a restarted agent can still learn the exit code of an instance it did not spawn.
 */
const shimScript = `"$@"; code=$?; printf '%s' "$code" > "$0.tmp" && mv -f "$0.tmp" "$0"; exit "$code"`;

/** How to start one instance. */
export interface LaunchSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /**
   * Sandboxed with its own network: listen on the host's 127.0.0.1:<this port> here and hand the
   * socket to the instance as fd 3 (its in-sandbox bridge accepts on it), so the port belongs to
   * the instance's process group and survives the agent.
   */
  listenPort?: number;
}

/** What survives an agent restart about an instance: its state file (`instances/<kind>--<name>.json`). */
export interface InstanceRecord {
  kind: WorkloadKind;
  name: string;
  workload: string;
  ordinal: number;
  /** Hash of what it was started from; a different desired hash means replace it. */
  specHash: string;
  image: string;
  port: number;
  healthPath: string;
  /** Shim pid = process group id; undefined while not running. */
  pid?: number;
  /** /proc starttime of the shim, guarding against pid reuse. */
  starttime?: string;
  logFile: string;
  exitFile: string;
  /** Host path of `$CTRL_HALT_FILE` when it is not beside the exit file (sandboxed: in the instance's own run dir). */
  haltFile?: string;
  /** The instance's private sandbox directory (home, run dir), removed when it stops. */
  sandboxDir?: string;
  /** Consecutive failed runs (persisted so a restarted agent does not restart a crash loop forever). */
  failures: number;
  /** Set once it gave up restarting. */
  gaveUp?: { exitCode?: number; reason: string; haltIntent?: string };
}

/** Restart and health-check policy. */
export interface SupervisorPolicy {
  restartBackoffMs: number;
  restartBackoffMaxMs: number;
  /** Restarts after consecutive failures before giving up (stays failed). */
  maxRestarts: number;
  /** A run this long resets the failure count. */
  stableAfterMs: number;
  /** Health poll interval while pending. */
  healthIntervalMs: number;
  /** Liveness poll interval once running. */
  livenessIntervalMs: number;
  /** Liveness failures in a row before it counts as pending again. */
  livenessFailures: number;
  /** SIGTERM → SIGKILL grace on stop. */
  stopGraceMs: number;
  /** How often an adopted instance (not our child) is checked for exit. */
  adoptedPollMs: number;
}

/** Observed state of one supervised instance. */
export interface SupervisorStatus {
  phase: InstancePhase;
  exitCode?: number;
  failureReason?: string;
  /** Why the app halted on purpose (see {@link haltExitCodes}). */
  haltIntent?: string;
}

/**
 * Exit codes by which an app says "I halted on purpose, do not restart me" (ARCHITECTURE.md,
 * SupervisorService): the instance stays `failed` at once with its exit code and the intent the
 * app wrote to `$CTRL_HALT_FILE` (if any), and the control plane decides what to do.
 */
export const haltExitCodes: ReadonlySet<number> = new Set([70, 71, 72]);

/**
 * Supervises one instance: spawns it detached in its own process group, polls its health path
 * (`pending` → `running` on the first 200), notices its exit (as our child, or by polling when
 * adopted after an agent restart), restarts it with exponential backoff and gives up after
 * `maxRestarts` consecutive failures (then it stays `failed`). `stop` sends SIGTERM to the group,
 * then SIGKILL after a grace period, and removes the state file.
 */
export class InstanceSupervisor {
  private status: SupervisorStatus = { phase: "pending" };
  private stopping = false;
  private closed = false;
  private runId = 0;
  private timers = new Set<NodeJS.Timeout>();
  private startedAt = 0;
  private healthFailures = 0;
  private persisting: Promise<void> = Promise.resolve();

  constructor(
    readonly record: InstanceRecord,
    /** Builds how to (re)start it; adopted instances get theirs only when they need a restart. */
    private readonly prepare: () => Promise<LaunchSpec>,
    private readonly deps: { stateFile: string; policy: SupervisorPolicy; logger: Logger; onChange: () => void; advertiseHost: string },
  ) {
    if (record.gaveUp) {
      const { exitCode, reason, haltIntent } = record.gaveUp;
      this.status = {
        phase: "failed",
        ...(exitCode !== undefined ? { exitCode } : {}),
        failureReason: reason,
        ...(haltIntent ? { haltIntent } : {}),
      };
    }
  }

  get name(): string {
    return this.record.name;
  }

  get address(): string {
    return `${this.deps.advertiseHost}:${this.record.port}`;
  }

  current(): SupervisorStatus {
    return this.status;
  }

  /** Starts a new instance (a fresh record). */
  async launch(): Promise<void> {
    const run = ++this.runId;
    const spec = await this.prepare();
    if (run !== this.runId || this.stopping || this.closed) return;
    await rm(this.record.exitFile, { force: true });
    await rm(haltFileOf(this.record), { force: true });
    let listener: Awaited<ReturnType<typeof listenOnHost>> | undefined;
    if (spec.listenPort !== undefined) {
      try {
        listener = await listenOnHost(spec.listenPort);
      } catch (err) {
        this.onExit(run, undefined, `cannot listen on 127.0.0.1:${spec.listenPort} for the instance: ${(err as Error).message}`);
        return;
      }
      if (run !== this.runId || this.stopping || this.closed) {
        await closeListener(listener.server);
        return;
      }
    }
    const fd = openSync(this.record.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn("/bin/sh", ["-c", shimScript, this.record.exitFile, ...spec.argv], {
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
        void this.readExitCode().then((fromFile) =>
          resolve(fromFile ?? (signal ? 128 + (signalNumbers[signal] ?? 0) : (code ?? undefined))),
        );
      });
    });
    const finish = async (exitCode: number | undefined) => this.onExit(run, exitCode, undefined, await this.readHaltIntent());
    const pid = child.pid;
    if (pid === undefined) {
      await new Promise((r) => child.once("error", r));
      this.onExit(run, undefined, "spawn failed");
      return;
    }
    child.unref();
    const stat = await readProcStat(pid);
    this.record.pid = pid;
    this.record.starttime = stat?.starttime ?? "";
    if (run !== this.runId || this.stopping || this.closed) {
      // stop() ran while this spawn was in flight and could not see the pid: finish its job.
      signalGroup(pid, "SIGKILL");
      return;
    }
    this.startedAt = Date.now();
    this.healthFailures = 0;
    await this.persist();
    this.deps.logger.info({ instance: this.name, pid, port: this.record.port }, "instance started");
    void exited.then(finish);
    this.setPhase({ phase: "pending", ...(this.record.failures > 0 ? this.lastFailureHint() : {}) });
    this.scheduleHealth(run, this.deps.policy.healthIntervalMs);
  }

  /**
   * Takes over an instance a previous agent started. True when its process is alive and provably
   * ours (same pid and start time); false when it is gone (the caller then relaunches or drops it).
   */
  async adopt(): Promise<boolean> {
    if (this.record.gaveUp) return true;
    const { pid, starttime } = this.record;
    if (pid === undefined || !starttime || !(await isSameLiveProcess(pid, starttime))) {
      await this.killLeftovers();
      return false;
    }
    const run = ++this.runId;
    this.startedAt = Date.now();
    this.deps.logger.info({ instance: this.name, pid, port: this.record.port }, "instance adopted");
    this.setPhase({ phase: "pending" });
    this.scheduleHealth(run, 0);
    this.pollAdopted(run);
    return true;
  }

  /** SIGTERM to the group, SIGKILL after the grace period; resolves once nothing of it runs. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.runId++;
    this.clearTimers();
    const { pid, starttime } = this.record;
    if (pid !== undefined && starttime && (await isSameLiveProcess(pid, starttime))) {
      signalGroup(pid, "SIGTERM");
      if (!(await waitGroupGone(pid, this.deps.policy.stopGraceMs))) {
        this.deps.logger.warn({ instance: this.name, pid }, "instance ignored SIGTERM; sending SIGKILL");
        signalGroup(pid, "SIGKILL");
        await waitGroupGone(pid, 30_000);
      }
    } else {
      await this.killLeftovers();
    }
    this.deps.logger.info({ instance: this.name }, "instance stopped");
    await this.persisting;
    if (this.record.sandboxDir) await rm(this.record.sandboxDir, { recursive: true, force: true });
    await rm(this.deps.stateFile, { force: true });
    await rm(this.record.exitFile, { force: true });
    await rm(haltFileOf(this.record), { force: true });
  }

  /** Stops supervising without touching the process (agent shutdown; the next agent adopts it). */
  detach(): void {
    this.closed = true;
    this.runId++;
    this.clearTimers();
  }

  /** Kills processes of a dead shim's group that are provably this instance (env check), e.g. orphans of a killed shim. */
  private async killLeftovers(): Promise<void> {
    const pgid = this.record.pid;
    if (pgid === undefined) return;
    const mark = `CTRL_INSTANCE_ID=${this.name}`;
    for (const member of await groupMembers(pgid)) {
      if (await environHas(member, mark)) {
        this.deps.logger.warn({ instance: this.name, pid: member }, "killing leftover process of a dead instance");
        try {
          process.kill(member, "SIGKILL");
        } catch {
          /* already gone */
        }
      }
    }
  }

  private onExit(run: number, exitCode: number | undefined, why?: string, haltIntent?: string): void {
    if (run !== this.runId || this.stopping || this.closed) return;
    this.runId++;
    this.clearTimers();
    const pgid = this.record.pid;
    // The shim is gone; anything left in its group (a daemonized child) would be an orphan.
    if (pgid !== undefined) signalGroup(pgid, "SIGKILL");
    const ranMs = Date.now() - this.startedAt;
    this.record.pid = undefined;
    this.record.starttime = undefined;
    this.record.failures = ranMs >= this.deps.policy.stableAfterMs ? 1 : this.record.failures + 1;
    const code = exitCode === undefined ? "an unknown code" : `code ${exitCode}`;
    const log = this.deps.logger.child({ instance: this.name, exitCode, failures: this.record.failures });
    if ((exitCode !== undefined && haltExitCodes.has(exitCode)) || haltIntent) {
      const reason = `halted on purpose: exited with ${code}${haltIntent ? ` (intent ${haltIntent})` : ""}; not restarted`;
      this.record.gaveUp = { ...(exitCode !== undefined ? { exitCode } : {}), reason, ...(haltIntent ? { haltIntent } : {}) };
      log.warn({ haltIntent }, "instance halted on purpose; not restarting it");
      this.setPhase({
        phase: "failed",
        ...(exitCode !== undefined ? { exitCode } : {}),
        failureReason: reason,
        ...(haltIntent ? { haltIntent } : {}),
      });
      void this.persist();
      return;
    }
    if (this.record.failures > this.deps.policy.maxRestarts) {
      const reason = `${why ?? `exited with ${code}`}; gave up after ${this.record.failures} failed starts`;
      this.record.gaveUp = { ...(exitCode !== undefined ? { exitCode } : {}), reason };
      log.warn("instance keeps failing; giving up");
      this.setPhase({ phase: "failed", ...(exitCode !== undefined ? { exitCode } : {}), failureReason: reason });
      void this.persist();
      return;
    }
    const backoff = Math.min(this.deps.policy.restartBackoffMs * 2 ** (this.record.failures - 1), this.deps.policy.restartBackoffMaxMs);
    log.warn({ backoffMs: backoff }, "instance exited; restarting after backoff");
    this.setPhase({
      phase: "pending",
      ...(exitCode !== undefined ? { exitCode } : {}),
      failureReason: `${why ?? `exited with ${code}`}; restart ${this.record.failures} of ${this.deps.policy.maxRestarts} in ${backoff} ms`,
    });
    void this.persist();
    this.after(backoff, () => {
      if (this.stopping || this.closed) return;
      this.launch().catch((err: unknown) => {
        log.error({ err }, "restart failed");
        this.onExit(this.runId, undefined, `restart failed: ${(err as Error).message}`);
      });
    });
  }

  private lastFailureHint(): Partial<SupervisorStatus> {
    return this.status.exitCode !== undefined ? { exitCode: this.status.exitCode } : {};
  }

  private scheduleHealth(run: number, inMs: number): void {
    this.after(inMs, async () => {
      if (run !== this.runId) return;
      const ok = await probe(`http://127.0.0.1:${this.record.port}${this.record.healthPath}`, 2_000);
      if (run !== this.runId) return;
      const { policy } = this.deps;
      if (ok) {
        this.healthFailures = 0;
        if (this.status.phase !== "running") {
          this.deps.logger.info({ instance: this.name }, "instance healthy");
          this.setPhase({ phase: "running" });
        }
        if (this.record.failures > 0 && Date.now() - this.startedAt >= policy.stableAfterMs) {
          this.record.failures = 0;
          void this.persist();
        }
        this.scheduleHealth(run, policy.livenessIntervalMs);
      } else {
        if (this.status.phase === "running" && ++this.healthFailures >= policy.livenessFailures) {
          this.deps.logger.warn({ instance: this.name }, "instance stopped answering its health path");
          this.setPhase({ phase: "pending", failureReason: `health path ${this.record.healthPath} stopped answering 200` });
        }
        this.scheduleHealth(run, this.status.phase === "running" ? policy.livenessIntervalMs : policy.healthIntervalMs);
      }
    });
  }

  private pollAdopted(run: number): void {
    this.after(this.deps.policy.adoptedPollMs, async () => {
      if (run !== this.runId) return;
      const { pid, starttime } = this.record;
      if (pid !== undefined && starttime && (await isSameLiveProcess(pid, starttime))) return this.pollAdopted(run);
      this.onExit(run, await this.readExitCode(), undefined, await this.readHaltIntent());
    });
  }

  /**
   * The first line the app wrote to $CTRL_HALT_FILE (at most 64 characters), if any. The file sits
   * in a directory the (sandboxed, hostile) app can write: never follow a symlink it planted there
   * (it would make the agent report the first line of any host file), read only a regular file,
   * and only its first bytes.
   */
  private async readHaltIntent(): Promise<string | undefined> {
    let fh: FileHandle | undefined;
    try {
      fh = await open(haltFileOf(this.record), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      if (!(await fh.stat()).isFile()) return undefined;
      const { buffer, bytesRead } = await fh.read(Buffer.alloc(256), 0, 256, 0);
      const text = buffer.subarray(0, bytesRead).toString("utf8").split("\n")[0]!.trim().slice(0, 64);
      return text || undefined;
    } catch {
      return undefined;
    } finally {
      await fh?.close();
    }
  }

  private async readExitCode(): Promise<number | undefined> {
    try {
      const text = await readFile(this.record.exitFile, "utf8");
      const n = Number.parseInt(text, 10);
      return Number.isFinite(n) ? n : undefined;
    } catch {
      return undefined;
    }
  }

  private setPhase(next: SupervisorStatus): void {
    const prev = this.status;
    this.status = next;
    if (
      prev.phase !== next.phase ||
      prev.exitCode !== next.exitCode ||
      prev.failureReason !== next.failureReason ||
      prev.haltIntent !== next.haltIntent
    )
      this.deps.onChange();
  }

  /** Writes the state file (serialized, atomic by rename). */
  persist(): Promise<void> {
    this.persisting = this.persisting
      .then(async () => {
        if (this.stopping) return;
        const tmp = `${this.deps.stateFile}.tmp`;
        await writeFile(tmp, JSON.stringify(this.record));
        await rename(tmp, this.deps.stateFile);
      })
      .catch((err: unknown) => this.deps.logger.error({ err, instance: this.name }, "writing the instance state file failed"));
    return this.persisting;
  }

  private after(ms: number, fn: () => unknown): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn();
    }, ms);
    this.timers.add(t);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** Where an instance may write its halt intent (`$CTRL_HALT_FILE`): beside its exit file. */
export function haltFileOf(record: Pick<InstanceRecord, "exitFile" | "haltFile">): string {
  return record.haltFile ?? record.exitFile.replace(/\.exit$/, ".halt");
}

async function probe(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
};
