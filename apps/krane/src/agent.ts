import type { DeploymentState, SentinelState } from "@ctrl/proto";
import type { Vault } from "@ctrl/vault";
import { join } from "node:path";
import type { Logger } from "pino";
import type { ClusterClient } from "./cluster-client.js";
import type { Driver } from "./driver.js";
import { applyDeploymentState, applySentinelState } from "./sync/apply.js";
import { ApplyQueue } from "./sync/apply-queue.js";
import { CursorStore } from "./sync/cursor.js";
import { LogShipper, type OutputSource } from "./sync/log-shipper.js";
import { Reporter } from "./sync/reporter.js";
import { resync, ResyncLoop } from "./sync/resync.js";
import { createStatusReporter } from "./sync/status-report.js";
import { WatchLoop } from "./sync/watch-loop.js";

export { runningImage, sentinelFailure } from "./sync/status-report.js";

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
  /** Instance output to push to ctrl-api (PushInstanceLogs); without it nothing is pushed. */
  output?: OutputSource;
  /** How often instance output is pushed (default 1 s). */
  logShipIntervalMs?: number;
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

/**
 * The krane agent: per resource kind, a desired → apply loop (WatchDeployments / WatchSentinels
 * from the persisted cursor) and a shared actual → report loop; plus a periodic resync that
 * re-reads every workload's desired state (GetDesired*State) to repair drift and remove what is
 * no longer desired. The driver adopts what a previous agent process left running on `start`.
 * The loops live in sync/; this wires them.
 */
export function createAgent(deps: AgentDeps): Agent {
  const { client, driver, region, logger } = deps;
  const cursors = {
    deployment: new CursorStore(join(deps.dataDir, "cursor-deployments.json"), region),
    sentinel: new CursorStore(join(deps.dataDir, "cursor-sentinels.json"), region),
  };
  const applyDeps = { driver, logger, ...(deps.vault ? { vault: deps.vault } : {}) };
  const queue = new ApplyQueue();
  const reporter = new Reporter(driver, createStatusReporter(client, logger), {
    batchWindowMs: deps.reportBatchMs ?? 50,
    concurrency: 8,
    logger,
  });

  const deploymentsLoop = new WatchLoop<DeploymentState>({
    name: "deployments",
    cursor: cursors.deployment,
    open: (after, signal) => client.watchDeployments({ region, versionLastSeen: after }, { signal }),
    version: (m) => m.version,
    apply: queue.fromWatch("deployment", (m: DeploymentState) => applyDeploymentState(applyDeps, m)),
    logger,
  });
  const sentinelsLoop = new WatchLoop<SentinelState>({
    name: "sentinels",
    cursor: cursors.sentinel,
    open: (after, signal) => client.watchSentinels({ region, versionLastSeen: after }, { signal }),
    version: (m) => m.version,
    apply: queue.fromWatch("sentinel", (m: SentinelState) => applySentinelState(applyDeps, m)),
    logger,
  });
  const shipper = deps.output
    ? new LogShipper({
        client,
        source: deps.output,
        file: join(deps.dataDir, "log-cursors.json"),
        logger,
        intervalMs: deps.logShipIntervalMs ?? 1_000,
      })
    : undefined;
  const resyncPass = () => resync({ ...applyDeps, client, queue, reporter });
  const resyncLoop = new ResyncLoop(resyncPass, deps.resyncIntervalMs, logger);

  return {
    async start() {
      await Promise.all([cursors.deployment.load(), cursors.sentinel.load()]);
      await driver.start();
      reporter.start();
      reporter.markAll();
      deploymentsLoop.start();
      sentinelsLoop.start();
      resyncLoop.start();
      await shipper?.start();
      logger.info({ deploymentCursor: String(cursors.deployment.get()), sentinelCursor: String(cursors.sentinel.get()) }, "agent started");
    },
    async stop() {
      await Promise.all([deploymentsLoop.stop(), sentinelsLoop.stop(), resyncLoop.stop()]);
      await reporter.stop();
      await shipper?.stop();
      await driver.close();
    },
    resync: resyncPass,
    status: () => ({
      region,
      cursors: { deployments: String(cursors.deployment.get()), sentinels: String(cursors.sentinel.get()) },
      connected: { deployments: deploymentsLoop.connected, sentinels: sentinelsLoop.connected },
      connections: { deployments: deploymentsLoop.connections, sentinels: sentinelsLoop.connections },
      reportsSent: reporter.sent,
      resyncs: resyncLoop.passes,
      logLinesShipped: shipper?.shipped ?? 0,
      workloads: (["deployment", "sentinel"] as const)
        .flatMap((kind) => driver.list(kind).map((w) => driver.observe(kind, w.name)))
        .filter(Boolean),
    }),
  };
}
