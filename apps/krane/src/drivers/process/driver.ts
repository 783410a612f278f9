import {
  artifactRefProblem,
  ArtifactError,
  ExtractError,
  instanceEnv,
  parseArtifactRef,
  defaultHealthPath,
  type Storage,
} from "@ctrl/artifact";
import {
  findSandboxTools,
  installBridge,
  makeTraversable,
  makeWorkloadDir,
  sandboxArgv,
  workloadUid,
  type SandboxTools,
} from "@ctrl/sandbox";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import type { Driver } from "../../driver.js";
import { workloadKey, type DesiredWorkload, type ObservedInstance, type ObservedWorkload, type WorkloadKind } from "../../workload.js";
import { ArtifactCache, type LocalArtifact } from "./artifacts.js";
import { haltFileOf, InstanceSupervisor, type InstanceRecord, type LaunchSpec, type SupervisorPolicy } from "./instance.js";
import { rotateIfLarge, tailLog } from "./logs.js";
import { PortAllocator } from "./ports.js";
import { environHas, readProcStat } from "./procfs.js";

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
  sandboxLimits?: { processes?: number; fileSizeBytes?: number; tmpBytes?: number };
  /**
   * Decrypts the variables of a desired spec read back from disk: spec files keep only the
   * encrypted blob the control plane sent (`encryptedEnv`), never the plaintext. Without it such a
   * spec comes back with an env_decrypt_failed error.
   */
  decryptEnv?: (spec: DesiredWorkload) => { env: Record<string, string> } | { error: string };
}

/** Why a workload has no runnable instances. */
interface PullFailure {
  /** Permanent (bad reference, digest mismatch, bad archive): no retry until the spec changes. */
  permanent: boolean;
  reason: string;
}

interface WorkloadState {
  spec: DesiredWorkload;
  instances: Map<number, InstanceSupervisor>;
  pull?: PullFailure;
  pullAttempts: number;
  artifact?: LocalArtifact;
  /** Reconcile serialization: one pass at a time, a rerun flag for changes that arrive meanwhile. */
  running?: Promise<void>;
  again: boolean;
  retryTimer?: NodeJS.Timeout;
  /** The surge replacement for spec `hash` failed: not retried until the spec changes, reported as a failed instance. */
  replaceFailure?: { hash: string; reason: string; exitCode?: number };
}

/**
 * The `process` driver: runs each workload's instances as local child processes from an artifact
 * (see packages/artifact). Desired specs and instance records live in the data directory, so a
 * restarted agent adopts live instances, relaunches dead ones and removes undesired ones.
 */
export class ProcessDriver implements Driver {
  private readonly workloads = new Map<string, WorkloadState>();
  /** Workloads being torn down (deleted): their instances until stopped. */
  private readonly removing = new Map<string, Promise<void>>();
  private readonly listeners = new Set<(kind: WorkloadKind, name: string) => void>();
  private readonly ports: PortAllocator;
  private readonly cache: ArtifactCache;
  private rotateTimer?: NodeJS.Timeout;
  private closed = false;
  private readonly loggedPulls = new Set<string>();

  /** Identifies this data directory's instances (see killOrphans). */
  private readonly agentMark: string;
  /** Set by `start` unless the sandbox is off. */
  private sandbox?: { tools: SandboxTools; bridge: string };

  constructor(private readonly opts: ProcessDriverOptions) {
    this.agentMark = createHash("sha256").update(resolve(opts.dataDir)).digest("hex").slice(0, 16);
    this.ports = new PortAllocator(opts.portRange.low, opts.portRange.high);
    this.cache = new ArtifactCache(join(opts.dataDir, "artifacts"), opts.storage);
  }

  /** Pull timings by digest (benchmark). */
  get pullTimings() {
    return this.cache.timings;
  }

  private dir(...parts: string[]): string {
    return join(this.opts.dataDir, ...parts);
  }

  private specFile(kind: WorkloadKind, name: string): string {
    return this.dir("workloads", kind, `${name}.json`);
  }

  async start(): Promise<void> {
    for (const d of ["workloads/deployment", "workloads/sentinel", "instances", "logs", "artifacts"])
      await mkdir(this.dir(d), { recursive: true });
    await this.prepareSandbox();
    await this.removeStaleDownloads();
    for (const kind of ["deployment", "sentinel"] as const) {
      for (const file of await readdir(this.dir("workloads", kind))) {
        if (file.endsWith(".tmp")) await rm(this.dir("workloads", kind, file), { force: true });
        if (!file.endsWith(".json")) continue;
        const spec = this.reviveEnv(JSON.parse(await readFile(this.dir("workloads", kind, file), "utf8")) as DesiredWorkload);
        this.workloads.set(workloadKey(kind, spec.name), { spec, instances: new Map(), pullAttempts: 0, again: false });
      }
    }
    // Adopt every instance whose process still runs and is still desired; stop the others.
    for (const file of await readdir(this.dir("instances"))) {
      if (!file.endsWith(".json")) continue;
      const stateFile = this.dir("instances", file);
      let record: InstanceRecord;
      try {
        record = JSON.parse(await readFile(stateFile, "utf8")) as InstanceRecord;
      } catch (err) {
        this.opts.logger.warn({ err, file }, "unreadable instance state file; removing it");
        await rm(stateFile, { force: true });
        continue;
      }
      const state = this.workloads.get(workloadKey(record.kind, record.workload));
      const supervisor = this.supervisor(record, () => this.launchSpecFor(record), stateFile);
      const desired =
        state && record.ordinal < state.spec.replicas && record.specHash === specHash(state.spec) && !state.instances.has(record.ordinal);
      this.ports.reserve(record.port);
      if (!desired) {
        this.opts.logger.info({ instance: record.name }, "stopping an instance that is no longer desired");
        await supervisor.stop();
        this.ports.release(record.port);
        continue;
      }
      if (await supervisor.adopt()) {
        state.instances.set(record.ordinal, supervisor);
      } else {
        // Dead while the agent was down: the reconcile below starts a fresh one.
        this.opts.logger.info({ instance: record.name }, "instance died while the agent was down; it will be replaced");
        await rm(stateFile, { force: true });
        this.ports.release(record.port);
      }
    }
    await this.killOrphans();
    for (const state of this.workloads.values()) this.reconcile(state);
    let ticks = 0;
    this.rotateTimer = setInterval(() => {
      void this.rotateLogs();
      // Every ~10 minutes: drop what no desired workload uses any more.
      if (++ticks % 60 === 0) void this.prune();
    }, 10_000);
    this.rotateTimer.unref();
  }

  async apply(workload: DesiredWorkload): Promise<void> {
    const key = workloadKey(workload.kind, workload.name);
    await this.removing.get(key);
    // Decrypted variables never reach the disk: a spec that came encrypted is stored encrypted.
    await writeAtomic(
      this.specFile(workload.kind, workload.name),
      JSON.stringify(workload.encryptedEnv ? { ...workload, env: {} } : workload),
    );
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
      const fresh: WorkloadState = { spec: workload, instances: new Map(), pullAttempts: 0, again: false };
      this.workloads.set(key, fresh);
      this.reconcile(fresh);
    }
  }

  async delete(kind: WorkloadKind, name: string): Promise<void> {
    const key = workloadKey(kind, name);
    // Durable first: without its spec file, a restarted agent stops whatever is left of it.
    await rm(this.specFile(kind, name), { force: true });
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
      await Promise.all([...state.instances.values()].map((s) => this.stopInstance(s)));
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
    const key = workloadKey(kind, name);
    const state = this.workloads.get(key);
    if (!state) return undefined;
    const { spec } = state;
    const base = { cpuMillicores: spec.cpuMillicores, memoryMib: spec.memoryMib, image: spec.image };
    const instances: ObservedInstance[] = [];
    for (let ordinal = 0; ordinal < spec.replicas; ordinal++) {
      const sup = state.instances.get(ordinal);
      const name = instanceName(spec.name, ordinal);
      // An instance from an older spec still serves until its replacement is healthy: report it as is.
      if (sup) {
        const s = sup.current();
        instances.push({
          ...base,
          name,
          address: sup.address,
          phase: s.phase,
          ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}),
          ...(s.failureReason ? { failureReason: s.failureReason } : {}),
          ...(s.haltIntent ? { haltIntent: s.haltIntent } : {}),
          image: sup.record.image,
        });
      } else if (state.pull) {
        instances.push({
          ...base,
          name,
          address: "",
          phase: state.pull.permanent ? "failed" : "pending",
          failureReason: state.pull.reason,
        });
      } else {
        instances.push({ ...base, name, address: "", phase: "pending" });
      }
    }
    // Old instances still serve while the new image cannot run (a rejected pull, a failed surge
    // replacement): report that failure as an instance of the new image, so whoever waits for it
    // (a fleet rollout's deploy) learns why instead of timing out.
    if (instances.some((i) => i.image !== spec.image)) {
      const failure: { reason: string; exitCode?: number } | undefined = state.pull?.permanent
        ? { reason: state.pull.reason }
        : state.replaceFailure?.hash === specHash(spec)
          ? state.replaceFailure
          : undefined;
      if (failure)
        instances.push({
          ...base,
          name: `${spec.name}-next`,
          address: "",
          phase: "failed",
          failureReason: failure.reason,
          ...(failure.exitCode !== undefined ? { exitCode: failure.exitCode } : {}),
        });
    }
    return { kind, name, image: spec.image, desiredReplicas: spec.replicas, instances };
  }

  onChange(listener: (kind: WorkloadKind, name: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last lines of an instance's log, or undefined for an unknown instance name. */
  async logs(instance: string, lines: number): Promise<string[] | undefined> {
    if (!/^[A-Za-z0-9._-]+$/.test(instance)) return undefined;
    for (const kind of ["deployment", "sentinel"] as const) {
      const file = this.dir("logs", `${kind}--${instance}.log`);
      const out = await tailLog(file, lines);
      if (
        out.length ||
        (await readFile(file).then(
          () => true,
          () => false,
        ))
      )
        return out;
    }
    return undefined;
  }

  /** Stops every instance (SIGTERM, then SIGKILL) but keeps the desired specs: the next `start` relaunches them. */
  async stopInstances(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.removing.values()]);
    await Promise.all(
      [...this.workloads.values()].map(async (state) => {
        if (state.retryTimer) clearTimeout(state.retryTimer);
        await state.running?.catch(() => undefined);
        await Promise.all([...state.instances.values()].map((s) => this.stopInstance(s)));
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
          await this.reconcileOnce(state);
        } catch (err) {
          this.opts.logger.error({ err, workload: state.spec.name }, "reconcile failed; retrying");
          this.retryLater(state, "reconcile failed");
        }
      } while (state.again && !this.closed && this.workloads.get(workloadKey(state.spec.kind, state.spec.name)) === state);
    })().finally(() => {
      state.running = undefined;
    });
  }

  private retryLater(state: WorkloadState, _why: string): void {
    if (state.retryTimer || this.closed) return;
    const base = this.opts.pullRetryMs ?? 1_000;
    const wait = Math.min(base * 2 ** Math.min(state.pullAttempts, 5), 30_000);
    state.retryTimer = setTimeout(() => {
      state.retryTimer = undefined;
      this.reconcile(state);
    }, wait);
    state.retryTimer.unref();
  }

  private async reconcileOnce(state: WorkloadState): Promise<void> {
    const { spec } = state;
    const log = this.opts.logger.child({ kind: spec.kind, workload: spec.name, id: spec.id });
    const hash = specHash(spec);

    // Instances beyond the replica count go first.
    const extra = [...state.instances.entries()].filter(([ordinal]) => ordinal >= spec.replicas);
    for (const [ordinal] of extra) state.instances.delete(ordinal);
    await Promise.all(extra.map(([, sup]) => this.stopInstance(sup)));
    if (extra.length) this.emit(spec.kind, spec.name);
    if (spec.replicas === 0) return;

    if (spec.envError) {
      state.pull = { permanent: true, reason: spec.envError };
      this.emit(spec.kind, spec.name);
      return;
    }
    if (!state.artifact) {
      if (state.pull?.permanent) return;
      const ref = parseArtifactRef(spec.image);
      if (!ref) {
        state.pull = { permanent: true, reason: `image_pull_failed: ${artifactRefProblem(spec.image)}` };
        log.warn({ image: spec.image, reason: state.pull.reason }, "image cannot run on the process driver");
        this.emit(spec.kind, spec.name);
        return;
      }
      try {
        state.artifact = await this.cache.ensure(ref);
        state.pull = undefined;
        const timings = this.cache.timings.get(ref.sha256);
        if (timings && !this.loggedPulls.has(ref.sha256)) {
          this.loggedPulls.add(ref.sha256);
          log.info(
            { sha256: ref.sha256, downloadMs: Math.round(timings.downloadMs), unpackMs: Math.round(timings.unpackMs) },
            "artifact pulled",
          );
        }
      } catch (err) {
        state.pullAttempts++;
        if (err instanceof ArtifactError || err instanceof ExtractError) {
          const code = err instanceof ArtifactError && err.code === "invalid_manifest" ? "invalid_manifest" : "image_pull_failed";
          state.pull = { permanent: true, reason: `${code}: ${err.message}` };
          log.warn({ image: spec.image, reason: state.pull.reason }, "artifact rejected");
        } else {
          state.pull = { permanent: false, reason: `pulling image (attempt ${state.pullAttempts}): ${(err as Error).message}` };
          log.warn({ err, image: spec.image }, "artifact download failed; will retry");
          this.retryLater(state, "pull");
        }
        this.emit(spec.kind, spec.name);
        return;
      }
    }

    const artifact = state.artifact;
    const started: InstanceSupervisor[] = [];
    for (let ordinal = 0; ordinal < spec.replicas; ordinal++) {
      if (state.instances.has(ordinal)) continue;
      const sup = await this.newInstance(spec, ordinal, hash, artifact);
      state.instances.set(ordinal, sup);
      started.push(sup);
    }
    if (started.length) this.emit(spec.kind, spec.name);
    await Promise.all(started.map((s) => s.launch()));

    // Instances started from an older spec (a sentinel's new image) are replaced one at a time
    // with surge: the new instance starts beside the old one (its own name and port), and only
    // once it answers its health path does it take the ordinal and the old one stop. So even a
    // single-replica sentinel keeps serving throughout, and a bad image never takes an old
    // instance down: a replacement that fails is stopped, recorded in `replaceFailure` (reported
    // as a failed instance of the new image) and not retried until the spec changes.
    if (state.replaceFailure && state.replaceFailure.hash !== hash) state.replaceFailure = undefined;
    const key = workloadKey(spec.kind, spec.name);
    // Only a different spec supersedes a replacement: the periodic resync re-applies the same spec
    // (setting `again`), and aborting then would restart a slow-starting replacement forever.
    const superseded = () => this.closed || this.workloads.get(key) !== state || specHash(state.spec) !== hash;
    for (const [ordinal, old] of [...state.instances.entries()].filter(([, sup]) => sup.record.specHash !== hash)) {
      if (superseded()) return; // a newer spec arrived: the next pass takes over
      if (state.replaceFailure) return;
      log.info({ instance: old.name }, "replacing an instance started from an older spec (surge)");
      const sup = await this.newInstance(
        spec,
        ordinal,
        hash,
        artifact,
        `${instanceName(spec.name, ordinal)}-${randomBytes(3).toString("hex")}`,
      );
      await sup.launch();
      const settled = await this.settled(sup, this.opts.rolloutStepTimeoutMs ?? 120_000, superseded);
      if (superseded() || settled !== "running") {
        const failed = sup.current();
        await this.stopInstance(sup);
        if (superseded()) return;
        state.replaceFailure = {
          hash,
          reason:
            settled === "timeout"
              ? `start_failed: did not answer ${sup.record.healthPath} within ${this.opts.rolloutStepTimeoutMs ?? 120_000} ms`
              : (failed.failureReason ?? "start_failed"),
          ...(failed.exitCode !== undefined ? { exitCode: failed.exitCode } : {}),
        };
        log.warn(
          { instance: sup.name, outcome: settled, reason: state.replaceFailure.reason },
          "replacement did not become healthy; the old instances keep running",
        );
        this.emit(spec.kind, spec.name);
        return;
      }
      state.instances.set(ordinal, sup);
      this.emit(spec.kind, spec.name);
      // Drain: whoever routes by the reported addresses (frontline) learns the new one before the old one goes.
      await new Promise((r) => setTimeout(r, this.opts.replaceDrainMs ?? 1_000).unref());
      await this.stopInstance(old);
    }
  }

  /** Resolves once the instance is running, has failed for good, or the timeout passed. */
  private settled(
    sup: InstanceSupervisor,
    timeoutMs: number,
    superseded: () => boolean,
  ): Promise<"running" | "failed" | "timeout" | "superseded"> {
    return new Promise((resolve) => {
      const check = () => {
        const phase = sup.current().phase;
        if (phase === "running" || phase === "failed") finish(phase);
        else if (superseded()) finish("superseded");
      };
      const off = this.onChange(check);
      // A newer spec or a delete emits nothing for this instance: look now and then.
      const poll = setInterval(check, 200);
      const timer = setTimeout(() => finish("timeout"), timeoutMs);
      function finish(outcome: "running" | "failed" | "timeout" | "superseded") {
        off();
        clearInterval(poll);
        clearTimeout(timer);
        resolve(outcome);
      }
      check();
    });
  }

  private async newInstance(
    spec: DesiredWorkload,
    ordinal: number,
    hash: string,
    artifact: LocalArtifact,
    name = instanceName(spec.name, ordinal),
  ): Promise<InstanceSupervisor> {
    const port = await this.ports.allocate();
    const healthPath = spec.healthCheckPath || artifact.manifest.healthPath || defaultHealthPath;
    const record: InstanceRecord = {
      kind: spec.kind,
      name,
      workload: spec.name,
      ordinal,
      specHash: hash,
      image: spec.image,
      port,
      healthPath,
      logFile: this.dir("logs", `${spec.kind}--${name}.log`),
      exitFile: this.dir("instances", `${spec.kind}--${name}.exit`),
      failures: 0,
    };
    return this.supervisor(record, () => this.launchSpecFor(record), this.dir("instances", `${spec.kind}--${name}.json`));
  }

  /** How to restart an adopted instance: from its workload's current spec (same hash) and artifact. */
  private async launchSpecFor(record: InstanceRecord): Promise<LaunchSpec> {
    const state = this.workloads.get(workloadKey(record.kind, record.workload));
    if (!state) throw new Error(`workload ${record.workload} is no longer desired`);
    const ref = parseArtifactRef(state.spec.image);
    if (!ref) throw new Error(`image_pull_failed: ${artifactRefProblem(state.spec.image)}`);
    state.artifact ??= await this.cache.ensure(ref);
    // Someone may have bound the port since it was handed out (or while the instance was down):
    // restarting on it would only crash again with EADDRINUSE, so move the instance.
    if (!(await this.ports.isFree(record.port))) {
      const taken = record.port;
      record.port = await this.ports.allocate();
      this.ports.release(taken);
      this.opts.logger.warn(
        { instance: record.name, taken, port: record.port },
        "instance port taken by another process; moving the instance",
      );
    }
    const spec = launchSpec(
      state.spec,
      state.artifact,
      this.instanceEnvironment(state.spec, record.name, record.port, this.sandbox !== undefined),
    );
    return this.sandbox ? this.sandboxed(this.sandbox, state.spec, record, spec) : spec;
  }

  /**
   * Wraps a launch in bubblewrap (packages/sandbox): the instance runs as uid 100000+port (unique
   * among live instances, so RLIMIT_NPROC is its own), sees its artifact read-only at /app, a
   * private writable home and run dir (recreated at every start, removed at stop), and — for
   * deployments — only its own loopback: the host port reaches it through the fd-passing bridge.
   * Sentinels, the platform's own proxies, keep the host network (they must reach MySQL and the
   * instances) but get the same pid/mount/user isolation.
   */
  private async sandboxed(
    sandbox: { tools: SandboxTools; bridge: string },
    workload: DesiredWorkload,
    record: InstanceRecord,
    spec: LaunchSpec,
  ): Promise<LaunchSpec> {
    const uid = workloadUid(record.port);
    const dir = this.dir("sandboxes", `${record.kind}--${record.name}`);
    await rm(dir, { recursive: true, force: true });
    await makeTraversable(dir);
    await makeWorkloadDir(join(dir, "home"), uid, uid);
    await makeWorkloadDir(join(dir, "run"), uid, uid);
    record.sandboxDir = dir;
    record.haltFile = join(dir, "run", "halt");
    const ownNetwork = workload.kind === "deployment";
    const limits = this.opts.sandboxLimits ?? {};
    const argv = sandboxArgv(
      sandbox.tools,
      {
        uid,
        gid: uid,
        mounts: [
          { host: spec.cwd, sandbox: "/app" },
          { host: join(dir, "home"), sandbox: "/home/app", writable: true },
          { host: join(dir, "run"), sandbox: "/run/instance", writable: true },
        ],
        cwd: "/app",
        network: ownNetwork ? "none" : "host",
        tmpBytes: limits.tmpBytes ?? 64 * 1024 * 1024,
        limits: { processes: limits.processes ?? 512, fileSizeBytes: limits.fileSizeBytes ?? 1024 * 1024 * 1024, openFiles: 4096 },
        ...(ownNetwork ? { portBridge: { fd: 3, port: record.port } } : { extraEtc: ["resolv.conf"] }),
        bridgeScript: sandbox.bridge,
      },
      spec.argv,
    );
    return { argv, cwd: spec.cwd, env: spec.env, ...(ownNetwork ? { listenPort: record.port } : {}) };
  }

  /** Finds bwrap (or logs that the sandbox is off) and makes the data directory usable by sandbox uids. */
  private async prepareSandbox(): Promise<void> {
    if (this.opts.sandbox === "none") {
      this.opts.logger.warn(
        "KRANE_SANDBOX=none: tenant instances run WITHOUT a sandbox, as the agent's own user, and can read its data, environment and network. Use only on a trusted single-user machine.",
      );
      return;
    }
    const tools = this.opts.sandbox ?? findSandboxTools("KRANE_SANDBOX=none");
    // bwrap resolves mount sources as the instance's uid: the way to artifacts/ and sandboxes/ must be searchable.
    for (const d of [this.opts.dataDir, this.dir("artifacts"), this.dir("sandboxes")]) await makeTraversable(d);
    const bridge = await installBridge(this.dir("sandbox-bin"));
    try {
      execFileSync(tools.setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups", "--", "/usr/bin/test", "-r", bridge], {
        stdio: "ignore",
      });
    } catch {
      throw new Error(
        `krane: KRANE_DATA_DIR ${this.opts.dataDir} is not reachable by unprivileged users (every parent directory needs o+x, e.g. chmod o+x on it): sandboxed instances run as their own uid and could not see their artifacts`,
      );
    }
    this.sandbox = { tools, bridge };
    this.opts.logger.info(
      { bwrap: tools.bwrap },
      "instances run sandboxed (bubblewrap: own pid/mount/user/network namespaces, unprivileged uid)",
    );
  }

  /** A spec read back from disk gets its variables decrypted from the stored blob. */
  private reviveEnv(spec: DesiredWorkload): DesiredWorkload {
    if (!spec.encryptedEnv) return spec;
    const out = this.opts.decryptEnv?.(spec) ?? {
      error: "env_decrypt_failed: the agent has no decryption key for the stored environment variables (set KRANE_VAULT_MASTER_KEYS)",
    };
    if ("error" in out) return { ...spec, env: {}, envError: out.error };
    return { ...spec, env: out.env };
  }

  /**
   * PORT and the ids (names from `instanceEnv`), the workload's decrypted variables, and a memory
   * limit for Node apps: `NODE_OPTIONS=--max-old-space-size=<¾ of memory_mib>` (V8's heap cap; the
   * rest is headroom for code, buffers and native memory). Other runtimes get no enforced limit
   * from this driver.
   */
  private instanceEnvironment(spec: DesiredWorkload, name: string, port: number, sandboxed: boolean): Record<string, string> {
    // Sandboxed: nothing of the agent's environment, only the sandbox's own PATH and HOME.
    const base = sandboxed ? { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/home/app" } : this.opts.baseEnv;
    const env: Record<string, string> = { ...base, ...(spec.kind === "sentinel" ? this.opts.sentinelEnv : {}), ...spec.env };
    if (spec.memoryMib > 0) {
      const heap = Math.max(16, Math.floor((spec.memoryMib * 3) / 4));
      env.NODE_OPTIONS = [env.NODE_OPTIONS, `--max-old-space-size=${heap}`].filter(Boolean).join(" ");
    }
    env[instanceEnv.port] = String(port);
    env[instanceEnv.instanceId] = name;
    env[instanceEnv.workspaceId] = spec.workspaceId;
    env[instanceEnv.projectId] = spec.projectId;
    env[instanceEnv.environmentId] = spec.environmentId;
    env[instanceEnv.region] = this.opts.region;
    // What the instance runs, so it can say so (a sentinel reports it on /_ctrl/health).
    env[instanceEnv.image] = spec.image;
    env[instanceEnv.agent] = this.agentMark;
    env[instanceEnv.haltFile] = sandboxed
      ? "/run/instance/halt"
      : haltFileOf({ exitFile: this.dir("instances", `${spec.kind}--${name}.exit`) });
    if (spec.kind === "deployment") env[instanceEnv.deploymentId] = spec.id;
    else env[instanceEnv.sentinelId] = spec.id;
    return env;
  }

  private supervisor(record: InstanceRecord, prepare: () => Promise<LaunchSpec>, stateFile: string): InstanceSupervisor {
    return new InstanceSupervisor(record, prepare, {
      stateFile,
      policy: this.opts.policy,
      logger: this.opts.logger.child({ kind: record.kind, workload: record.workload }),
      advertiseHost: this.opts.advertiseHost,
      onChange: () => this.emit(record.kind, record.workload),
    });
  }

  private async stopInstance(sup: InstanceSupervisor): Promise<void> {
    await sup.stop();
    this.ports.release(sup.record.port);
  }

  private async rotateLogs(): Promise<void> {
    const files = await readdir(this.dir("logs")).catch(() => [] as string[]);
    for (const f of files) {
      if (!f.endsWith(".log")) continue;
      await rotateIfLarge(this.dir("logs", f), this.opts.logMaxBytes, this.opts.logKeep).catch((err: unknown) =>
        this.opts.logger.warn({ err, file: f }, "log rotation failed"),
      );
    }
  }

  /**
   * Removes unpacked artifacts no desired workload references, and logs of instances that no
   * longer exist, once they are older than `retentionMs` (logs of a failed deploy stay readable
   * for a while). Public for tests.
   */
  async prune(retentionMs = this.opts.retentionMs ?? 24 * 3600_000): Promise<{ artifacts: string[]; logs: string[] }> {
    const removed = { artifacts: [] as string[], logs: [] as string[] };
    const now = Date.now();
    const old = async (path: string) =>
      now -
        (await stat(path).then(
          (s) => s.mtimeMs,
          () => now,
        )) >
      retentionMs;
    const referenced = () => new Set([...this.workloads.values()].map((w) => parseArtifactRef(w.spec.image)?.sha256).filter(Boolean));
    for (const f of await readdir(this.dir("artifacts")).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{64}$/.test(f) || referenced().has(f) || this.cache.busy(f) || !(await old(this.dir("artifacts", f)))) continue;
      if (referenced().has(f)) continue; // applied meanwhile
      await rm(this.dir("artifacts", f), { recursive: true, force: true });
      removed.artifacts.push(f);
    }
    const live = new Set<string>();
    for (const w of this.workloads.values()) for (const sup of w.instances.values()) live.add(`${sup.record.kind}--${sup.record.name}`);
    for (const f of await readdir(this.dir("logs")).catch(() => [] as string[])) {
      const instance = f.replace(/\.log(\.\d+)?$/, "");
      if (live.has(instance) || !(await old(this.dir("logs", f)))) continue;
      await rm(this.dir("logs", f), { force: true });
      removed.logs.push(f);
    }
    if (removed.artifacts.length || removed.logs.length) this.opts.logger.info(removed, "pruned unused artifacts and old logs");
    return removed;
  }

  /**
   * Kills processes this data directory's agent started but no record accounts for: an agent
   * killed between spawning an instance and writing its record leaves one. Found by the
   * `CTRL_AGENT` mark every instance carries; adopted instances' process groups are spared.
   */
  private async killOrphans(): Promise<void> {
    const adopted = new Set<number>();
    for (const w of this.workloads.values())
      for (const sup of w.instances.values()) if (sup.record.pid !== undefined) adopted.add(sup.record.pid);
    const mark = `${instanceEnv.agent}=${this.agentMark}`;
    for (const entry of await readdir("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (pid === process.pid || !(await environHas(pid, mark))) continue;
      const stat = await readProcStat(pid);
      if (!stat || stat.state === "Z" || adopted.has(stat.pgid)) continue;
      this.opts.logger.warn({ pid, pgid: stat.pgid }, "killing an orphaned instance process (no record accounts for it)");
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }

  /** Half-done pulls of a previous agent process (it crashed mid-download or mid-unpack). */
  private async removeStaleDownloads(): Promise<void> {
    for (const f of await readdir(this.dir("artifacts"))) {
      if (/\.(tmp|tar\.gz)$/.test(f) || f.includes(".part-")) await rm(this.dir("artifacts", f), { recursive: true, force: true });
    }
  }
}

/** The deployment's command if set (exec'd directly), else the manifest's `start` (a string runs via `/bin/sh -c`). */
function launchSpec(spec: DesiredWorkload, artifact: LocalArtifact, env: Record<string, string>): LaunchSpec {
  const start = artifact.manifest.start;
  const argv = spec.command.length ? spec.command : typeof start === "string" ? ["/bin/sh", "-c", start] : start;
  return { argv, cwd: artifact.dir, env };
}

/** `<workload>-<ordinal>`: stable, so a replaced instance keeps its name (and its row). */
export function instanceName(workload: string, ordinal: number): string {
  return `${workload}-${ordinal}`;
}

/** What instances are started from; a change means replacing them (replicas are not part of it). */
export function specHash(spec: DesiredWorkload): string {
  const { image, command, env, memoryMib, cpuMillicores, healthCheckPath } = spec;
  const sortedEnv = Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1)));
  return createHash("sha256")
    .update(JSON.stringify({ image, command, env: sortedEnv, memoryMib, cpuMillicores, healthCheckPath }))
    .digest("hex")
    .slice(0, 16);
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  // Owner-only: a spec names what runs where (its variables are stored encrypted).
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, file);
}
