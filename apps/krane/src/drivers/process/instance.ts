// Long because the instance supervisor is one state machine (spawn, restart policy, halt watch, stop); its parts without state live beside it.
import { rename, rm, writeFile } from "node:fs/promises";
import type { Logger } from "pino";
import { readExitCode, readHaltIntent } from "./exit-status.js";
import { readHaltStatus } from "./halt-status.js";
import {
  haltExitCodes,
  haltFileOf,
  type HaltIntentRecord,
  type InstanceRecord,
  type LaunchSpec,
  type SupervisorPolicy,
  type SupervisorStatus,
} from "./instance-record.js";
import { environHas, groupMembers, isSameLiveProcess, signalGroup, waitGroupGone } from "./procfs.js";
import { tailLog } from "./logs.js";
import { spawnInstance } from "./spawn.js";

export {
  haltExitCodes,
  haltFileOf,
  type HaltIntentRecord,
  type HaltWatch,
  type InstanceRecord,
  type LaunchSpec,
  type SupervisorPolicy,
  type SupervisorStatus,
} from "./instance-record.js";

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
      const { exitCode, reason, haltIntent, halt } = record.gaveUp;
      this.status = {
        phase: "failed",
        ...(exitCode !== undefined ? { exitCode } : {}),
        failureReason: reason,
        ...(haltIntent ? { haltIntent } : {}),
        ...(halt ? { halt } : {}),
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
    const current = () => run === this.runId && !this.stopping && !this.closed;
    if (!current()) return;
    const spawned = await spawnInstance(this.record, spec, current);
    if (spawned.outcome === "abandoned") return;
    if (spawned.outcome === "failed") return this.onExit(run, undefined, spawned.reason);
    const { pid, exited } = spawned;
    this.record.pid = pid;
    this.record.starttime = spawned.starttime;
    if (!current()) {
      // stop() ran while this spawn was in flight and could not see the pid: finish its job.
      signalGroup(pid, "SIGKILL");
      return;
    }
    this.startedAt = Date.now();
    this.healthFailures = 0;
    await this.persist();
    this.deps.logger.info({ instance: this.name, pid, port: this.record.port }, "instance started");
    void exited.then(async (exitCode) => this.onExit(run, exitCode, undefined, await readHaltIntent(this.record)));
    this.setPhase({ phase: "pending", ...(this.record.failures > 0 ? this.lastFailureHint() : {}) });
    this.scheduleHealth(run, this.deps.policy.healthIntervalMs);
    this.watchHalt(run);
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
    this.watchHalt(run);
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
    // An opted-in instance that announced a halt on its status path is never restarted, whatever its exit code.
    const halt = this.record.halt ? this.record.lastIntent : undefined;
    const intentName = haltIntent ?? halt?.reason;
    if ((exitCode !== undefined && haltExitCodes.has(exitCode)) || intentName) {
      const reason = `halted on purpose: exited with ${code}${intentName ? ` (intent ${intentName})` : ""}; not restarted`;
      this.record.gaveUp = {
        ...(exitCode !== undefined ? { exitCode } : {}),
        reason,
        ...(intentName ? { haltIntent: intentName } : {}),
        ...(halt ? { halt } : {}),
      };
      log.warn({ haltIntent: intentName, halt }, "instance halted on purpose; not restarting it");
      this.setPhase({
        phase: "failed",
        ...(exitCode !== undefined ? { exitCode } : {}),
        failureReason: reason,
        ...(intentName ? { haltIntent: intentName } : {}),
        ...(halt ? { halt } : {}),
      });
      void this.persist();
      return;
    }
    if (this.record.failures > this.deps.policy.maxRestarts) {
      const given = `${why ?? `exited with ${code}`}; gave up after ${this.record.failures} failed starts`;
      log.warn("instance keeps failing; giving up");
      // The reason carries the end of the instance's output, so the deploy's error says why it failed.
      const giveUp = (tail: string[]) => {
        if (this.stopping || this.closed) return;
        const reason = tail.length ? `${given}; last ${tail.length} lines of its output:\n${tail.join("\n")}` : given;
        this.record.gaveUp = { ...(exitCode !== undefined ? { exitCode } : {}), reason };
        this.setPhase({ phase: "failed", ...(exitCode !== undefined ? { exitCode } : {}), failureReason: reason });
        void this.persist();
      };
      void outputTail(this.record.logFile).then(giveUp, () => giveUp([]));
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
      const check = await probe(`http://127.0.0.1:${this.record.port}${this.record.healthPath}`, 2_000);
      if (run !== this.runId) return;
      const { policy } = this.deps;
      if (check.ok) {
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
        } else if (this.status.phase === "pending") {
          // Not ready yet: say which probe and what it last saw (a readiness timeout shows it).
          this.setPhase({
            phase: "pending",
            ...this.lastFailureHint(),
            failureReason: `health check GET ${this.record.healthPath} on port ${this.record.port} (the instance's $PORT): ${check.result}`,
          });
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
      this.onExit(run, await readExitCode(this.record), undefined, await readHaltIntent(this.record));
    });
  }

  private setPhase(next: SupervisorStatus): void {
    const prev = this.status;
    // A live halt intent stays on every later status of the run (health changes do not hide it).
    const intent = this.record.halt ? this.record.lastIntent : undefined;
    if (intent && !next.halt) next = { ...next, halt: intent, haltIntent: next.haltIntent ?? intent.reason };
    this.status = next;
    if (
      prev.phase !== next.phase ||
      prev.exitCode !== next.exitCode ||
      prev.failureReason !== next.failureReason ||
      prev.haltIntent !== next.haltIntent ||
      JSON.stringify(prev.halt) !== JSON.stringify(next.halt)
    )
      this.deps.onChange();
  }

  /**
   * Polls an opted-in instance's status path for a `halt_intent` while it runs (every
   * `haltPollMs`, each read bounded by `haltStatusTimeoutMs`). A stay-alive instance that already
   * announced one (a restarted agent adopting it) keeps what is left of its grace window.
   */
  private watchHalt(run: number): void {
    const watch = this.record.halt;
    if (!watch) return;
    if (this.record.lastIntent && this.record.haltSeenAt !== undefined && watch.stayAlive)
      this.armGrace(run, Math.max(0, this.record.haltSeenAt + watch.graceMs - Date.now()));
    const pollMs = this.deps.policy.haltPollMs ?? 2_000;
    const poll = (inMs: number) =>
      this.after(inMs, async () => {
        if (run !== this.runId) return;
        const intent = await readHaltStatus(
          `http://127.0.0.1:${this.record.port}${watch.statusPath}`,
          this.deps.policy.haltStatusTimeoutMs ?? 1_000,
        );
        if (run !== this.runId) return;
        if (intent) this.onLiveIntent(run, intent);
        poll(pollMs);
      });
    poll(Math.min(pollMs, this.deps.policy.healthIntervalMs));
  }

  /** The status path announced a halt: report it at once; a stay-alive instance gets its grace window. */
  private onLiveIntent(run: number, intent: HaltIntentRecord): void {
    const watch = this.record.halt!;
    const first = !this.record.lastIntent;
    if (!first && JSON.stringify(this.record.lastIntent) === JSON.stringify(intent)) return;
    this.record.lastIntent = intent;
    if (first) this.record.haltSeenAt = Date.now();
    void this.persist();
    this.deps.logger.warn({ instance: this.name, halt: intent, stayAlive: watch.stayAlive }, "instance announced a halt");
    this.setPhase({ ...this.status, haltIntent: intent.reason, halt: intent });
    if (first && watch.stayAlive) this.armGrace(run, watch.graceMs);
  }

  /** After the grace window a halted stay-alive instance is terminated (SIGTERM, then SIGKILL); its exit is the halt's. */
  private armGrace(run: number, ms: number): void {
    this.after(ms, async () => {
      const { pid, starttime } = this.record;
      if (run !== this.runId || pid === undefined || !starttime || !(await isSameLiveProcess(pid, starttime))) return;
      this.deps.logger.warn(
        { instance: this.name, pid, graceMs: this.record.halt?.graceMs },
        "halted instance's grace window is over; terminating it",
      );
      signalGroup(pid, "SIGTERM");
      this.after(this.deps.policy.stopGraceMs, async () => {
        if (run === this.runId && (await isSameLiveProcess(pid, starttime))) signalGroup(pid, "SIGKILL");
      });
    });
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

/** One health check: ok, or what it saw (`ECONNREFUSED`, `status 503`, `timeout after 2000 ms`). */
async function probe(url: string, timeoutMs: number): Promise<{ ok: true } | { ok: false; result: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status === 200 ? { ok: true } : { ok: false, result: `status ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === "TimeoutError") return { ok: false, result: `timeout after ${timeoutMs} ms` };
    return { ok: false, result: e.cause?.code ?? e.message };
  }
}

/** Lines of output a give-up reason carries, and the longest line kept (the report holds 4 KiB). */
const tailLines = 20;
const tailLineChars = 160;

/** The last {@link tailLines} lines of an instance's log, each cut to {@link tailLineChars}. */
async function outputTail(logFile: string): Promise<string[]> {
  const lines = await tailLog(logFile, tailLines);
  return lines.map((l) => (l.length > tailLineChars ? `${l.slice(0, tailLineChars)}…` : l));
}
