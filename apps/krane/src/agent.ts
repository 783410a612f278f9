import { Code, ConnectError } from "@connectrpc/connect";
import {
  ReportDeploymentStatusRequest_Update_Instance_Status as InstanceStatus,
  ReportSentinelStatusRequest_Health as Health,
  type DeploymentState,
  type SentinelState,
} from "@ctrl/proto";
import { join } from "node:path";
import type { Vault } from "@ctrl/vault";
import type { Logger } from "pino";
import type { ClusterClient } from "./cluster-client.js";
import type { Driver } from "./driver.js";
import { Backoff, sleep } from "./sync/backoff.js";
import { badName, deploymentWorkload, sentinelWorkload } from "./sync/convert.js";
import { CursorStore } from "./sync/cursor.js";
import { Reporter } from "./sync/reporter.js";
import { WatchLoop } from "./sync/watch-loop.js";
import type { DesiredWorkload, InstancePhase, ObservedWorkload, WorkloadKind } from "./workload.js";

/** What the agent is built from (main.ts builds it from config; tests build it in-process). */
export interface AgentDeps {
  client: ClusterClient;
  driver: Driver;
  region: string;
  dataDir: string;
  logger: Logger;
  resyncIntervalMs: number;
  /** Report coalescing window (default 50 ms). */
  reportBatchMs?: number;
  /** Decrypts deployments' environment variables (KRANE_VAULT_MASTER_KEYS); without it a deployment with variables fails with env_decrypt_failed. */
  vault?: Vault;
}

/** A running agent. */
export interface Agent {
  start(): Promise<void>;
  /** Closes the streams and the driver; instances keep running for the next agent process. */
  stop(): Promise<void>;
  /** Runs one resync pass now (also runs periodically). */
  resync(): Promise<void>;
  readonly status: () => Record<string, unknown>;
}

const phases: Record<InstancePhase, InstanceStatus> = {
  pending: InstanceStatus.PENDING,
  running: InstanceStatus.RUNNING,
  failed: InstanceStatus.FAILED,
};

/**
 * The image a sentinel's replicas run: the desired one once every running replica runs it, else
 * the one most running replicas run (mid-rollout), "" with none running.
 */
export function runningImage(images: string[], desired: string): string {
  if (images.length === 0) return "";
  if (images.every((i) => i === desired)) return desired;
  const counts = new Map<string, number>();
  for (const i of images) counts.set(i, (counts.get(i) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
}

/**
 * Why the desired image of a sentinel does not run, for the rollout's deploy to fail fast: the
 * first replica of that image that failed for good, as `image_pull_failed: …` /
 * `invalid_manifest: …` (pull) or `start_failed: …` (it exited and was given up), else undefined.
 */
export function sentinelFailure(observed: ObservedWorkload): string | undefined {
  const failed = observed.instances.find((i) => i.phase === "failed" && i.image === observed.image);
  if (!failed) return undefined;
  const reason = (failed.failureReason ?? "failed").slice(0, 1_000);
  if (/^(image_pull_failed|invalid_manifest|start_failed)\b/.test(reason)) return reason;
  const exit = failed.exitCode !== undefined && !/code -?\d+/.test(reason) ? ` (exit code ${failed.exitCode})` : "";
  return `start_failed: ${reason}${exit}`;
}

/**
 * The krane agent: per resource kind, a desired → apply loop (WatchDeployments / WatchSentinels
 * from the persisted cursor) and a shared actual → report loop; plus a periodic resync that
 * re-reads every workload's desired state (GetDesired*State) to repair drift and remove what is
 * no longer desired. The driver adopts what a previous agent process left running on `start`.
 */
export function createAgent(deps: AgentDeps): Agent {
  const { client, driver, region, logger } = deps;
  const cursors = {
    deployment: new CursorStore(join(deps.dataDir, "cursor-deployments.json"), region),
    sentinel: new CursorStore(join(deps.dataDir, "cursor-sentinels.json"), region),
  };

  async function applyDeploymentState(state: DeploymentState, source: "watch" | "resync" = "watch"): Promise<void> {
    const s = state.state;
    if (s.case === "apply") {
      const problem = badName(s.value.k8sName);
      if (problem) return logger.error({ version: String(state.version), problem }, "ignoring a deployment the agent cannot name");
      logger.info(
        { deploymentId: s.value.deploymentId, replicas: s.value.replicas, version: String(state.version), source },
        "apply deployment",
      );
      const deploymentId = s.value.deploymentId;
      // Names only: values are never logged.
      const workload = deploymentWorkload(s.value, deps.vault, (dropped) =>
        logger.warn({ deploymentId, dropped }, "ignoring reserved environment variable names (the agent sets them)"),
      );
      if (workload.envError) logger.error({ deploymentId, reason: workload.envError }, "deployment environment variables unusable");
      await driver.apply(workload);
    } else if (s.case === "delete") {
      if (badName(s.value.k8sName)) return;
      logger.info({ deploymentId: s.value.k8sName, version: String(state.version), source }, "delete deployment");
      // The driver reports it gone once its instances have stopped.
      await driver.delete("deployment", s.value.k8sName);
    }
  }

  async function applySentinelState(state: SentinelState, source: "watch" | "resync" = "watch"): Promise<void> {
    const s = state.state;
    if (s.case === "apply") {
      const problem = badName(s.value.k8sName);
      if (problem) return logger.error({ version: String(state.version), problem }, "ignoring a sentinel the agent cannot name");
      logger.info({ sentinelId: s.value.sentinelId, replicas: s.value.replicas, version: String(state.version), source }, "apply sentinel");
      await driver.apply(sentinelWorkload(s.value));
    } else if (s.case === "delete") {
      if (badName(s.value.k8sName)) return;
      logger.info({ sentinel: s.value.k8sName, version: String(state.version), source }, "delete sentinel");
      await driver.delete("sentinel", s.value.k8sName);
    }
  }

  async function sendReport(kind: WorkloadKind, name: string, observed: ObservedWorkload | undefined): Promise<void> {
    try {
      if (kind === "deployment") {
        await client.reportDeploymentStatus({
          change: observed
            ? {
                case: "update",
                value: {
                  k8sName: name,
                  instances: observed.instances.map((i) => ({
                    k8sName: i.name,
                    address: i.address,
                    cpuMillicores: BigInt(i.cpuMillicores),
                    memoryMib: BigInt(i.memoryMib),
                    status: phases[i.phase],
                    ...(i.exitCode !== undefined ? { exitCode: i.exitCode } : {}),
                    failureReason: i.failureReason ?? "",
                    haltIntent: i.haltIntent ?? "",
                  })),
                },
              }
            : { case: "delete", value: { k8sName: name } },
        });
      } else {
        const running = observed?.instances.filter((i) => i.phase === "running") ?? [];
        const desired = observed?.desiredReplicas ?? 0;
        const failure = observed ? sentinelFailure(observed) : undefined;
        await client.reportSentinelStatus({
          k8sName: name,
          availableReplicas: running.length,
          health: desired === 0 ? Health.PAUSED : running.length >= desired ? Health.HEALTHY : Health.UNHEALTHY,
          image: runningImage(
            running.map((i) => i.image),
            observed?.image ?? "",
          ),
          addresses: running.map((i) => i.address),
          failureReason: failure ?? "",
          failureImage: failure ? observed!.image : "",
          converged: desired > 0 && running.length >= desired && running.every((i) => i.image === observed!.image),
        });
      }
    } catch (err) {
      // The control plane no longer knows it: nothing left to report, do not retry forever.
      if (err instanceof ConnectError && err.code === Code.NotFound) {
        logger.warn({ kind, workload: name }, "control plane does not know this workload; dropping its report");
        return;
      }
      throw err;
    }
  }

  // Every driver change (both watch loops and resync) goes through one queue, so spec writes and
  // the resync staleness check never interleave.
  let queue: Promise<unknown> = Promise.resolve();
  function serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  }
  /** Watch applies per workload (`kind/name`), for the resync staleness check. */
  const watchApplies = new Map<string, number>();
  function fromWatch<S extends { state: { case?: string; value?: { k8sName: string } } }>(
    kind: WorkloadKind,
    apply: (s: S) => Promise<void>,
  ) {
    return (message: S) =>
      serialized(async () => {
        await apply(message);
        const name = message.state.value?.k8sName;
        if (name) watchApplies.set(`${kind}/${name}`, (watchApplies.get(`${kind}/${name}`) ?? 0) + 1);
      });
  }

  const reporter = new Reporter(driver, sendReport, { batchWindowMs: deps.reportBatchMs ?? 50, concurrency: 8, logger });

  const deploymentsLoop = new WatchLoop<DeploymentState>({
    name: "deployments",
    cursor: cursors.deployment,
    open: (after, signal) => client.watchDeployments({ region, versionLastSeen: after }, { signal }),
    version: (m) => m.version,
    apply: fromWatch("deployment", (m: DeploymentState) => applyDeploymentState(m)),
    logger,
  });
  const sentinelsLoop = new WatchLoop<SentinelState>({
    name: "sentinels",
    cursor: cursors.sentinel,
    open: (after, signal) => client.watchSentinels({ region, versionLastSeen: after }, { signal }),
    version: (m) => m.version,
    apply: fromWatch("sentinel", (m: SentinelState) => applySentinelState(m)),
    logger,
  });

  /**
   * Re-reads each workload's desired state; applies it, or removes the workload when it is gone.
   * A resync answer is older than anything the watch loop applied to that workload after the
   * request went out, so then it is dropped: resync repairs drift, it never rolls a change back.
   */
  async function resync(): Promise<void> {
    const one = async <S>(kind: WorkloadKind, w: DesiredWorkload, fetch: () => Promise<S>, apply: (s: S) => Promise<void>) => {
      const key = `${kind}/${w.name}`;
      const before = watchApplies.get(key) ?? 0;
      let state: S | undefined;
      let gone = false;
      try {
        state = await fetch();
      } catch (err) {
        if (!(err instanceof ConnectError && err.code === Code.NotFound)) throw err;
        gone = true;
      }
      await serialized(async () => {
        if ((watchApplies.get(key) ?? 0) !== before) return;
        if (gone) {
          logger.info({ kind, workload: w.name, id: w.id }, "resync: no longer desired here; removing it");
          await driver.delete(kind, w.name);
        } else await apply(state as S);
      });
    };
    for (const w of driver.list("deployment")) {
      await one(
        "deployment",
        w,
        () => client.getDesiredDeploymentState({ deploymentId: w.id }),
        (st) => applyDeploymentState(st, "resync"),
      );
    }
    for (const w of driver.list("sentinel")) {
      await one(
        "sentinel",
        w,
        () => client.getDesiredSentinelState({ sentinelId: w.id }),
        (st) => applySentinelState(st, "resync"),
      );
    }
    // A full report repairs anything a lost report left behind.
    reporter.markAll();
  }

  const abort = new AbortController();
  let resyncLoop: Promise<void> | undefined;
  let resyncs = 0;

  async function runResyncs(): Promise<void> {
    const backoff = new Backoff(500, 10_000);
    // First pass right away: GC of what was deleted while the agent was down.
    let wait = 0;
    while (!abort.signal.aborted) {
      await sleep(wait, abort.signal);
      if (abort.signal.aborted) break;
      try {
        await resync();
        resyncs++;
        backoff.reset();
        wait = deps.resyncIntervalMs;
      } catch (err) {
        logger.warn({ err: (err as Error).message }, "resync failed; retrying");
        wait = backoff.next();
      }
    }
  }

  return {
    async start() {
      await Promise.all([cursors.deployment.load(), cursors.sentinel.load()]);
      await driver.start();
      reporter.start();
      reporter.markAll();
      deploymentsLoop.start();
      sentinelsLoop.start();
      resyncLoop = runResyncs();
      logger.info({ deploymentCursor: String(cursors.deployment.get()), sentinelCursor: String(cursors.sentinel.get()) }, "agent started");
    },
    async stop() {
      abort.abort();
      await Promise.all([deploymentsLoop.stop(), sentinelsLoop.stop(), resyncLoop]);
      await reporter.stop();
      await driver.close();
    },
    resync,
    status: () => ({
      region,
      cursors: { deployments: String(cursors.deployment.get()), sentinels: String(cursors.sentinel.get()) },
      connected: { deployments: deploymentsLoop.connected, sentinels: sentinelsLoop.connected },
      connections: { deployments: deploymentsLoop.connections, sentinels: sentinelsLoop.connections },
      reportsSent: reporter.sent,
      resyncs,
      workloads: (["deployment", "sentinel"] as const)
        .flatMap((kind) => driver.list(kind).map((w) => driver.observe(kind, w.name)))
        .filter(Boolean),
    }),
  };
}
