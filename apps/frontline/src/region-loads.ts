import { listRegionSentinels, listRegionSplits, listRunningInstances, type Db } from "@ctrl/db";
import { allowedUpstreams, type PortRange } from "@ctrl/proxy";
import type { Logger } from "pino";
import { parseAddresses, type SentinelEntry } from "./route-table.js";
import type { RegionSplit } from "./traffic-split.js";

/** What the region's small tables are loaded from, and which upstream ports are allowed. */
export interface RegionSource {
  db: Db;
  region: string;
  logger: Logger;
  upstreamPorts: PortRange;
}

/** Logs an address outside the allowed port range, once per load: it is never dialed. */
function refused(source: RegionSource, kind: "instance" | "sentinel", id: string) {
  return (address: string) =>
    source.logger.warn(
      {
        region: source.region,
        [kind === "instance" ? "deploymentId" : "sentinelId"]: id,
        address,
        allowedPorts: `${source.upstreamPorts.low}-${source.upstreamPorts.high}`,
      },
      `refusing ${kind} address outside the instance port range: it is never proxied to`,
    );
}

/** deployment id → `host:port` of its running instances in the region (addresses outside the port range dropped). */
export async function loadInstances(source: RegionSource): Promise<Map<string, string[]>> {
  const instances = new Map<string, string[]>();
  for (const row of await listRunningInstances(source.db, source.region)) {
    if (!row.address || allowedUpstreams([row.address], source.upstreamPorts, refused(source, "instance", row.deploymentId)).length === 0)
      continue;
    const list = instances.get(row.deploymentId) ?? [];
    list.push(row.address);
    instances.set(row.deploymentId, list);
  }
  return instances;
}

/** environment id → its sentinel in the region, healthy only when running with an allowed address. */
export async function loadSentinels(source: RegionSource): Promise<Map<string, SentinelEntry>> {
  const sentinels = new Map<string, SentinelEntry>();
  for (const row of await listRegionSentinels(source.db, source.region)) {
    const addresses = allowedUpstreams(parseAddresses(row.addresses), source.upstreamPorts, refused(source, "sentinel", row.id));
    sentinels.set(row.environment_id, {
      sentinelId: row.id,
      healthy: row.health === "healthy" && row.desired_state === "running" && addresses.length > 0,
      addresses,
    });
  }
  return sentinels;
}

/** environment id → its rollout traffic split in the region. */
export async function loadSplits(source: RegionSource): Promise<Map<string, RegionSplit>> {
  const splits = new Map<string, RegionSplit>();
  for (const row of await listRegionSplits(source.db, source.region)) {
    splits.set(row.environment_id, {
      environmentId: row.environment_id,
      stableDeploymentId: row.stable_deployment_id,
      canaryDeploymentId: row.canary_deployment_id,
      canaryWeight: row.canary_weight,
    });
  }
  return splits;
}
