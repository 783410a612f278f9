import type { Storage } from "@ctrl/artifact";
import type { SandboxTools } from "@ctrl/sandbox";
import { mkdir } from "node:fs/promises";
import type { Logger } from "pino";
import type { Driver } from "../../driver.js";
import type { OutputCursor, OutputRead, OutputSource } from "../../sync/log-shipper.js";
import { workloadKey, type DesiredWorkload, type ObservedWorkload, type WorkloadKind } from "../../workload.js";
import { ArtifactCache } from "./artifacts.js";
import { prune, readInstanceLog, rotateLogs } from "./housekeeping.js";
import type { SupervisorPolicy } from "./instance.js";
import { InstanceLauncher } from "./launcher.js";
import { DataLayout } from "./layout.js";
import { observeWorkload } from "./observe.js";
import { listDeploymentOutputs, readOutputSince } from "./output.js";
import { PortAllocator } from "./ports.js";
import type { ReconcileContext } from "./reconcile/context.js";
import { reconcileOnce } from "./reconcile/run.js";
import { adoptInstances, killOrphans, removeStaleDownloads } from "./recovery.js";
import { prepareSandbox, type SandboxLimits } from "./sandbox.js";
import { SpecStore, type DecryptEnv } from "./spec-store.js";
import { newWorkloadState, type WorkloadState } from "./workload-state.js";

export { instanceName, specHash } from "./workload-state.js";

/** Settings of the process driver. */
export interface ProcessDriverOptions {
  /** Everything lives under it: workloads/, instances/, artifacts/, logs/. */
  dataDir: string;
  storage: Storage;
  region: string;
  portRange: { low: number; high: number };
  /** Host part of reported instance addresses. */
  advertiseHost: string;
  policy: SupervisorPolicy;
  logger: Logger;
  /** Log rotation: size that triggers it and how many old files to keep. */
  logMaxBytes: number;
  logKeep: number;
  /** Extra environment for sentinel instances (e.g. how they reach the control plane). */
  sentinelEnv?: Record<string, string>;
  /** Environment every instance inherits from the agent (PATH etc.); never the agent's secrets. */
  baseEnv: Record<string, string>;
  /** Transient pull failures are retried after this long (doubling, capped at 30 s). */
  pullRetryMs?: number;
  /** How long a rolling replacement waits for each new instance to become healthy (default 120 s). */
  rolloutStepTimeoutMs?: number;
  /** How long a replaced instance keeps serving after its replacement is reported (default 1 s). */
  replaceDrainMs?: number;
  /** How long unused artifacts and logs of gone instances are kept (default 24 h). */
  retentionMs?: number;
  /**
   * How instances are isolated: bubblewrap tools (default: found on PATH at `start`, which throws
   * with the install command when they are missing) or `"none"` (KRANE_SANDBOX=none: tenant code
   * runs as the agent's user — trusted single-user machines only; warned at every start).
   */
  sandbox?: SandboxTools | "none";
  /** Limits of each sandboxed instance (defaults: 512 processes/threads, 1 GiB files, 64 MiB /tmp). */
  sandboxLimits?: SandboxLimits;
  /**
   * Decrypts the variables of a desired spec read back from disk: spec files keep only the
   * encrypted blob the control plane sent (`encryptedEnv`), never the plaintext. Without it such a
   * spec comes back with an env_decrypt_failed error.
   */
  decryptEnv?: DecryptEnv;
}

/**
 * The `process` driver: runs each workload's instances as local child processes from an artifact
 * (see packages/artifact). Desired specs and instance records live in the data directory, so a
 * restarted agent adopts live instances, relaunches dead ones and removes undesired ones.
 *
 * This class coordinates: it holds the workloads and serializes their reconcile passes
 * (reconcile/run.ts); spec files (spec-store.ts), start-up recovery (recovery.ts), instance
 * launches and ports (launcher.ts, sandbox.ts, environment.ts), observation (observe.ts) and
 * log rotation and pruning (housekeeping.ts) live beside it.
 */
export class ProcessDriver implements Driver, OutputSource {
  private readonly workloads = new Map<string, WorkloadState>();
  /** Workloads being torn down (deleted): their instances until stopped. */
  private readonly removing = new Map<string, Promise<void>>();
  private readonly listeners = new Set<(kind: WorkloadKind, name: string) => void>();
  private readonly layout: DataLayout;
  private readonly specs: SpecStore;
  private readonly ports: PortAllocator;
  private readonly cache: ArtifactCache;
  private readonly launcher: InstanceLauncher;
  private readonly reconcileContext: ReconcileContext;
  private rotateTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: ProcessDriverOptions) {
    this.layout = new DataLayout(opts.dataDir);
    this.specs = new SpecStore(this.layout, opts.decryptEnv);
    this.ports = new PortAllocator(opts.portRange.low, opts.portRange.high);
    this.cache = new ArtifactCache(this.layout.path("artifacts"), opts.storage);
    this.launcher = new InstanceLauncher({
      layout: this.layout,
      ports: this.ports,
      cache: this.cache,
      policy: opts.policy,
      logger: opts.logger,
      advertiseHost: opts.advertiseHost,
      region: opts.region,
      baseEnv: opts.baseEnv,
      ...(opts.sentinelEnv ? { sentinelEnv: opts.sentinelEnv } : {}),
      ...(opts.sandboxLimits ? { sandboxLimits: opts.sandboxLimits } : {}),
      workload: (kind, name) => this.workloads.get(workloadKey(kind, name)),
      emit: (kind, name) => this.emit(kind, name),
    });
    this.reconcileContext = {
      logger: opts.logger,
      launcher: this.launcher,
      cache: this.cache,
      loggedPulls: new Set(),
      emit: (kind, name) => this.emit(kind, name),
      onChange: (listener) => this.onChange(listener),
      retryLater: (state) => this.retryLater(state),
      isCurrent: (state) => !this.closed && this.workloads.get(workloadKey(state.spec.kind, state.spec.name)) === state,
      rolloutStepTimeoutMs: opts.rolloutStepTimeoutMs ?? 120_000,
      replaceDrainMs: opts.replaceDrainMs ?? 1_000,
    };
  }

  /** Pull timings by digest (benchmark). */
  get pullTimings() {
    return this.cache.timings;
  }

  async start(): Promise<void> {
    for (const d of ["workloads/deployment", "workloads/sentinel", "instances", "logs", "artifacts"])
      await mkdir(this.layout.path(d), { recursive: true });
    this.launcher.sandbox = await prepareSandbox(this.opts.sandbox, this.layout, this.opts.logger);
    await removeStaleDownloads(this.layout);
    for (const { kind, spec } of await this.specs.loadAll()) this.workloads.set(workloadKey(kind, spec.name), newWorkloadState(spec));
    // Adopt every instance whose process still runs and is still desired; stop the others.
    const recovery = {
      layout: this.layout,
      launcher: this.launcher,
      ports: this.ports,
      logger: this.opts.logger,
      workloads: this.workloads,
    };
    await adoptInstances(recovery);
    await killOrphans(recovery);
    for (const state of this.workloads.values()) this.reconcile(state);
    let ticks = 0;
    this.rotateTimer = setInterval(() => {
      void rotateLogs(this.layout, this.opts.logMaxBytes, this.opts.logKeep, this.opts.logger);
      // Every ~10 minutes: drop what no desired workload uses any more.
      if (++ticks % 60 === 0) void this.prune();
    }, 10_000);
    this.rotateTimer.unref();
  }

  async apply(workload: DesiredWorkload): Promise<void> {
    const key = workloadKey(workload.kind, workload.name);
    await this.removing.get(key);
    await this.specs.save(workload);
    const state = this.workloads.get(key);
    if (state) {
      const changedImage = state.spec.image !== workload.image || state.spec.envError !== workload.envError;
      state.spec = workload;
      if (changedImage) {
        state.pull = undefined;
        state.pullAttempts = 0;
        state.artifact = undefined;
      }
      this.reconcile(state);
    } else {
      const fresh = newWorkloadState(workload);
      this.workloads.set(key, fresh);
      this.reconcile(fresh);
    }
  }

  async delete(kind: WorkloadKind, name: string): Promise<void> {
    const key = workloadKey(kind, name);
    // Durable first: without its spec file, a restarted agent stops whatever is left of it.
    await this.specs.remove(kind, name);
    const state = this.workloads.get(key);
    if (!state) {
      // Nothing here, but the control plane may still hold rows from an earlier life: report it gone.
      this.emit(kind, name);
      return;
    }
    this.workloads.delete(key);
    if (state.retryTimer) clearTimeout(state.retryTimer);
    const teardown = (async () => {
      await state.running?.catch(() => undefined);
      await Promise.all([...state.instances.values()].map((s) => this.launcher.stop(s)));
      state.instances.clear();
    })().finally(() => {
      this.removing.delete(key);
      this.emit(kind, name);
    });
    this.removing.set(key, teardown);
  }

  list(kind: WorkloadKind): DesiredWorkload[] {
    return [...this.workloads.values()].filter((s) => s.spec.kind === kind).map((s) => s.spec);
  }

  observe(kind: WorkloadKind, name: string): ObservedWorkload | undefined {
    const state = this.workloads.get(workloadKey(kind, name));
    return state ? observeWorkload(state, kind, name) : undefined;
  }

  onChange(listener: (kind: WorkloadKind, name: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last lines of an instance's log, or undefined for an unknown instance name. */
  logs(instance: string, lines: number): Promise<string[] | undefined> {
    return readInstanceLog(this.layout, instance, lines);
  }

  /** Deployment instances with a log file (what the log shipper pushes to ctrl-api). */
  outputs(): Promise<{ workload: string; instance: string }[]> {
    return listDeploymentOutputs(this.layout);
  }

  /** New complete lines of a deployment instance's log after `cursor`. */
  readOutput(instance: string, cursor: OutputCursor | undefined, maxBytes: number): Promise<OutputRead> {
    return readOutputSince(this.layout.logFile("deployment", instance), cursor, maxBytes);
  }

  /** Stops every instance (SIGTERM, then SIGKILL) but keeps the desired specs: the next `start` relaunches them. */
  async stopInstances(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.removing.values()]);
    await Promise.all(
      [...this.workloads.values()].map(async (state) => {
        if (state.retryTimer) clearTimeout(state.retryTimer);
        await state.running?.catch(() => undefined);
        await Promise.all([...state.instances.values()].map((s) => this.launcher.stop(s)));
        state.instances.clear();
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.rotateTimer) clearInterval(this.rotateTimer);
    await Promise.allSettled([...this.removing.values()]);
    for (const state of this.workloads.values()) {
      if (state.retryTimer) clearTimeout(state.retryTimer);
      await state.running?.catch(() => undefined);
      for (const sup of state.instances.values()) sup.detach();
    }
  }

  /**
   * Removes unpacked artifacts no desired workload references, and logs of instances that no
   * longer exist, once they are older than `retentionMs` (logs of a failed deploy stay readable
   * for a while). Public for tests.
   */
  prune(retentionMs = this.opts.retentionMs ?? 24 * 3600_000): Promise<{ artifacts: string[]; logs: string[] }> {
    return prune({ layout: this.layout, cache: this.cache, logger: this.opts.logger, workloads: this.workloads }, retentionMs);
  }

  private emit(kind: WorkloadKind, name: string): void {
    for (const l of this.listeners) l(kind, name);
  }

  /** Runs a reconcile pass for the workload now, or once more after the current one. */
  private reconcile(state: WorkloadState): void {
    if (this.closed) return;
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = (async () => {
      do {
        state.again = false;
        try {
          await reconcileOnce(this.reconcileContext, state);
        } catch (err) {
          this.opts.logger.error({ err, workload: state.spec.name }, "reconcile failed; retrying");
          this.retryLater(state);
        }
      } while (state.again && !this.closed && this.workloads.get(workloadKey(state.spec.kind, state.spec.name)) === state);
    })().finally(() => {
      state.running = undefined;
    });
  }

  /** Another pass after a backoff that doubles with the failed pulls (capped at 30 s). */
  private retryLater(state: WorkloadState): void {
    if (state.retryTimer || this.closed) return;
    const base = this.opts.pullRetryMs ?? 1_000;
    const wait = Math.min(base * 2 ** Math.min(state.pullAttempts, 5), 30_000);
    state.retryTimer = setTimeout(() => {
      state.retryTimer = undefined;
      this.reconcile(state);
    }, wait);
    state.retryTimer.unref();
  }
}
