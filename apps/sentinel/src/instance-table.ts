import { listRunningInstances, readEnvironmentInstancesFingerprint, type Db } from "@ctrl/db";
import { allowedUpstreams, defaultInstancePortRange, startPoller, type Poller, type PortRange } from "@ctrl/proxy";
import type { Logger } from "pino";

/** What the sentinel's handler needs to know about instances. */
export interface InstanceSource {
  /** `host:port` of the deployment's running instances in this region (empty if none or not ours). */
  addresses(deploymentId: string): readonly string[];
  /** Number of running instances across the environment's deployments. */
  count(): number;
  nextRefresh(timeoutMs: number): Promise<void>;
  lastRefreshAt(): number;
}

/** Dependencies of {@link startInstanceTable}. */
export interface InstanceTableDeps {
  db: Db;
  environmentId: string;
  region: string;
  logger: Logger;
  pollIntervalMs: number;
  fullReloadMs: number;
  /** Ports an instance address may have (the agent's KRANE_PORT_RANGE; default 20000-29999); others are never dialed. */
  upstreamPorts?: PortRange;
  /**
   * Called when the database or its schema no longer exists (not merely unreachable): nothing this
   * sentinel serves can come back, so main.ts exits rather than linger (e.g. orphaned by a test run).
   */
  onDatabaseGone?: (err: Error) => void;
}

/** A running instance table. */
export interface InstanceTable extends InstanceSource {
  stop(): Promise<void>;
}

/**
 * The running instances of every deployment of one environment in one region, polled from MySQL by a
 * checksum of the matching rows (XOR of per-row MD5 prefixes; CRC32 is linear and alike changes to
 * two rows cancel out) and reloaded when it changes. Deployments of other environments
 * never appear, so a sentinel cannot be used to reach another environment's instances.
 */
export async function startInstanceTable(deps: InstanceTableDeps): Promise<InstanceTable> {
  const { db, environmentId, region, logger } = deps;
  const upstreamPorts = deps.upstreamPorts ?? defaultInstancePortRange;
  let byDeployment = new Map<string, string[]>();
  let total = 0;
  let fingerprint = "";

  async function refresh(full: boolean): Promise<void> {
    const next = await readEnvironmentInstancesFingerprint(db, environmentId, region);
    if (!full && next === fingerprint) return;
    const instances = await listRunningInstances(db, region, environmentId);
    const map = new Map<string, string[]>();
    for (const row of instances) {
      if (!row.address) continue;
      const refused = (address: string) =>
        logger.warn(
          { environmentId, region, deploymentId: row.deploymentId, address, allowedPorts: `${upstreamPorts.low}-${upstreamPorts.high}` },
          "refusing instance address outside the instance port range: it is never proxied to",
        );
      if (allowedUpstreams([row.address], upstreamPorts, refused).length === 0) continue;
      const list = map.get(row.deploymentId) ?? [];
      list.push(row.address);
      map.set(row.deploymentId, list);
    }
    byDeployment = map;
    total = [...map.values()].reduce((n, list) => n + list.length, 0);
    fingerprint = next;
    if (!full) logger.debug({ environmentId, region, instances: total }, "instances changed");
  }

  const poller: Poller = await startPoller({
    intervalMs: deps.pollIntervalMs,
    fullEveryMs: deps.fullReloadMs,
    refresh,
    onError: (err) => {
      // ER_BAD_DB_ERROR on a new connection, ER_NO_SUCH_TABLE on one opened before the drop.
      const code = (err as { code?: string }).code;
      if (code === "ER_BAD_DB_ERROR" || code === "ER_NO_SUCH_TABLE") deps.onDatabaseGone?.(err as Error);
      logger.warn({ err, environmentId, region }, "instance refresh failed; serving the previous list");
    },
  });
  return {
    addresses: (deploymentId) => byDeployment.get(deploymentId) ?? [],
    count: () => total,
    nextRefresh: (timeoutMs) => poller.nextRefresh(timeoutMs),
    lastRefreshAt: () => poller.lastSuccessAt(),
    stop: () => poller.stop(),
  };
}
