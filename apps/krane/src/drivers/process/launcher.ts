import { artifactRefProblem, defaultHaltGraceSeconds, defaultHealthPath, parseArtifactRef } from "@ctrl/artifact";
import type { Logger } from "pino";
import type { DesiredWorkload, WorkloadKind } from "../../workload.js";
import type { ArtifactCache, LocalArtifact } from "./artifacts.js";
import { instanceEnvironment, launchSpec } from "./environment.js";
import { haltFileOf, InstanceSupervisor, type InstanceRecord, type LaunchSpec, type SupervisorPolicy } from "./instance.js";
import type { DataLayout } from "./layout.js";
import type { PortAllocator } from "./ports.js";
import { sandboxedLaunch, type Sandbox, type SandboxLimits } from "./sandbox.js";
import { instanceName, type WorkloadState } from "./workload-state.js";

/** What {@link InstanceLauncher} needs from the driver. */
export interface InstanceLauncherDeps {
  layout: DataLayout;
  ports: PortAllocator;
  cache: ArtifactCache;
  policy: SupervisorPolicy;
  logger: Logger;
  advertiseHost: string;
  region: string;
  baseEnv: Record<string, string>;
  sentinelEnv?: Record<string, string>;
  sandboxLimits?: SandboxLimits;
  /** The workload's current state (an instance restarts from its workload's current spec). */
  workload(kind: WorkloadKind, name: string): WorkloadState | undefined;
  /** Announces an observable change of the workload. */
  emit(kind: WorkloadKind, name: string): void;
}

/**
 * Makes the supervisor of each instance: hands out its port (and moves it when someone else took
 * it), builds how it starts (environment, artifact, sandbox) and releases the port when it stops.
 */
export class InstanceLauncher {
  /** Set by the driver's `start` unless the sandbox is off. */
  sandbox?: Sandbox;

  constructor(private readonly deps: InstanceLauncherDeps) {}

  /** A supervisor for a new instance of `spec` (not launched yet). */
  async create(
    spec: DesiredWorkload,
    ordinal: number,
    hash: string,
    artifact: LocalArtifact,
    name = instanceName(spec.name, ordinal),
  ): Promise<InstanceSupervisor> {
    const { layout } = this.deps;
    const port = await this.deps.ports.allocate();
    const healthPath = spec.healthCheckPath || artifact.manifest.healthPath || defaultHealthPath;
    const halt = artifact.manifest.halt;
    const record: InstanceRecord = {
      kind: spec.kind,
      name,
      workload: spec.name,
      ordinal,
      specHash: hash,
      image: spec.image,
      port,
      healthPath,
      logFile: layout.logFile(spec.kind, name),
      exitFile: layout.exitFile(spec.kind, name),
      failures: 0,
      ...(halt
        ? {
            halt: {
              statusPath: halt.statusPath,
              stayAlive: halt.stayAlive === true,
              graceMs: (halt.graceSeconds ?? defaultHaltGraceSeconds) * 1_000,
            },
          }
        : {}),
    };
    return this.supervise(record, layout.instanceStateFile(spec.kind, name));
  }

  /** A supervisor for an instance record (a new one, or one read back from `stateFile` to adopt). */
  supervise(record: InstanceRecord, stateFile: string): InstanceSupervisor {
    return new InstanceSupervisor(record, () => this.launchSpecFor(record), {
      stateFile,
      policy: this.deps.policy,
      logger: this.deps.logger.child({ kind: record.kind, workload: record.workload }),
      advertiseHost: this.deps.advertiseHost,
      onChange: () => this.deps.emit(record.kind, record.workload),
    });
  }

  /** Stops the instance and gives its port back. */
  async stop(sup: InstanceSupervisor): Promise<void> {
    await sup.stop();
    this.deps.ports.release(sup.record.port);
  }

  /** How to (re)start an instance: from its workload's current spec (same hash) and artifact. */
  private async launchSpecFor(record: InstanceRecord): Promise<LaunchSpec> {
    const { cache, ports, logger, layout } = this.deps;
    const state = this.deps.workload(record.kind, record.workload);
    if (!state) throw new Error(`workload ${record.workload} is no longer desired`);
    const ref = parseArtifactRef(state.spec.image);
    if (!ref) throw new Error(`image_pull_failed: ${artifactRefProblem(state.spec.image)}`);
    state.artifact ??= await cache.ensure(ref);
    // Someone may have bound the port since it was handed out (or while the instance was down):
    // restarting on it would only crash again with EADDRINUSE, so move the instance.
    if (!(await ports.isFree(record.port))) {
      const taken = record.port;
      record.port = await ports.allocate();
      ports.release(taken);
      logger.warn({ instance: record.name, taken, port: record.port }, "instance port taken by another process; moving the instance");
    }
    const env = instanceEnvironment(state.spec, record.name, record.port, {
      region: this.deps.region,
      baseEnv: this.deps.baseEnv,
      ...(this.deps.sentinelEnv ? { sentinelEnv: this.deps.sentinelEnv } : {}),
      agentMark: layout.agentMark,
      sandboxed: this.sandbox !== undefined,
      hostHaltFile: haltFileOf({ exitFile: layout.exitFile(state.spec.kind, record.name) }),
    });
    const spec = launchSpec(state.spec, state.artifact, env);
    return this.sandbox ? sandboxedLaunch(this.sandbox, layout, this.deps.sandboxLimits ?? {}, state.spec, record, spec) : spec;
  }
}
