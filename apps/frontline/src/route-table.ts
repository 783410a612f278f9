import { countRoutes, listRouteIndexRows, readRegionFingerprints, readRouteFingerprint, type Db } from "@ctrl/db";
import { defaultInstancePortRange, startPoller, type Poller, type PortRange } from "@ctrl/proxy";
import type { Logger } from "pino";
import { loadInstances, loadSentinels, loadSplits } from "./region-loads.js";
import { RouteIndex } from "./route-index.js";
import type { RegionSplit } from "./traffic-split.js";

/** One routed hostname. */
export interface RouteEntry {
  deploymentId: string;
  environmentId: string;
  projectId: string;
  workspaceId: string;
  /** `none`: a deployment's own hostname (never split); else a shared one (`branch`, `environment`, `live`). */
  sticky?: string;
}

/** The environment's sentinel in this region, as the agent last reported it. */
export interface SentinelEntry {
  sentinelId: string;
  healthy: boolean;
  addresses: string[];
}

/** An immutable view of everything frontline routes by; swapped whole on each change. */
export interface RouteSnapshot {
  routes: ReadonlyMap<string, RouteEntry>;
  /** deployment id → `host:port` of its `running` instances in this region. */
  instances: ReadonlyMap<string, readonly string[]>;
  /** environment id → its sentinel in this region. */
  sentinels: ReadonlyMap<string, SentinelEntry>;
  /** environment id → its rollout traffic split in this region (`region_traffic_splits`); absent = none. */
  splits?: ReadonlyMap<string, RegionSplit>;
}

/** What frontline's handler needs from a route table (tests can hand in their own). */
export interface RouteSource {
  snapshot(): RouteSnapshot;
  /** Resolves after a refresh that started after this call (bounded by `timeoutMs`). */
  nextRefresh(timeoutMs: number): Promise<void>;
  /** When the table last refreshed successfully (ms). */
  lastRefreshAt(): number;
}

/** Dependencies of {@link startRouteTable}. */
export interface RouteTableDeps {
  db: Db;
  /** Only instances and sentinels of this region are routed to. */
  region: string;
  logger: Logger;
  /** Change-check interval (ms); a change is visible one interval plus one reload after its commit. */
  pollIntervalMs: number;
  /** Unconditional reload interval (ms), a safety net under the checksum. */
  fullReloadMs: number;
  /** Interval (ms) of the whole-route-table checksum that proves the incremental loads complete (default 5 s). */
  verifyEveryMs?: number;
  /**
   * Ports an instance or sentinel address may have (the agents' KRANE_PORT_RANGE; default
   * 20000-29999). Any other address is dropped with a warning and never dialed, so a bad row can
   * never make a public hostname reach a control-plane port.
   */
  upstreamPorts?: PortRange;
}

/** A running route table. */
export interface RouteTable extends RouteSource {
  stop(): Promise<void>;
}

type Part = "instances" | "sentinels" | "splits";

/**
 * How far before the newest loaded `updated_at` an incremental route load looks: covers writers'
 * clock skew and transactions that commit a while after stamping their rows. Anything older still
 * shows up as a checksum mismatch and triggers a full load.
 */
const incrementalWindowMs = 3_000;

/**
 * Loads routes, running instances and sentinels of the region into memory and keeps them current by
 * polling. Routes (the big table): the row count plus the rows stamped recently, compared by hash
 * with what is loaded, and every few seconds a whole-table checksum (see `refreshRoutes`). Instances
 * and sentinels of the region: a row count and an XOR of per-row 64-bit MD5 prefixes each poll, and
 * a reload when it changes. Checksums are MD5-based, not CRC32: CRC is linear, so two routes moved
 * alike in one transaction (same deployment ids, same updated_at) change their CRCs by the same
 * amount and an XOR cancels out — a rollback went unseen that way. The snapshot is replaced
 * atomically, so a request in flight keeps the upstream it chose and the next request sees the new
 * routes.
 */
export async function startRouteTable(deps: RouteTableDeps): Promise<RouteTable> {
  const { db, region, logger } = deps;
  const upstreamPorts = deps.upstreamPorts ?? defaultInstancePortRange;
  let current: RouteSnapshot = { routes: new Map(), instances: new Map(), sentinels: new Map(), splits: new Map() };
  const fingerprints: Record<Part, string> = { instances: "", sentinels: "", splits: "" };

  /** Fingerprints of the region's instances and sentinels (small tables: checksummed every poll). */
  const readFingerprints = (): Promise<Record<Part, string>> => readRegionFingerprints(db, region);

  const index = new RouteIndex();
  let lastVerifiedAt = 0;

  /**
   * Brings the route index up to date and says whether anything changed. Every poll reads the row
   * count and the rows stamped within the window before the newest one loaded (an index range scan:
   * a cutover touches a handful of rows, whatever the table's size); a changed row differs in its
   * hash even when stamped in the same millisecond. A count that disagrees (a delete) reloads whole;
   * every `verifyEveryMs` the whole-table checksum proves nothing older than the window was missed.
   */
  async function refreshRoutes(full: boolean): Promise<boolean> {
    const before = index.version;
    const loadAll = async () => index.replaceAll(await listRouteIndexRows(db));
    if (full || index.size === 0) {
      await loadAll();
      lastVerifiedAt = Date.now();
      return index.version !== before;
    }
    const n = await countRoutes(db);
    const since = index.maxUpdatedAt() - incrementalWindowMs;
    index.upsert(await listRouteIndexRows(db, since));
    if (n !== index.size) {
      await loadAll();
    } else if (Date.now() - lastVerifiedAt >= (deps.verifyEveryMs ?? 5_000)) {
      lastVerifiedAt = Date.now();
      if ((await readRouteFingerprint(db)) !== index.fingerprint()) {
        logger.info({ region }, "route checksum differs from the database; reloading all routes");
        await loadAll();
      }
    }
    return index.version !== before;
  }

  const source = { db, region, logger, upstreamPorts };

  async function refresh(full: boolean): Promise<void> {
    // Routes before instances: instances of a new target are running before its route moves, so
    // reading instances second never pairs a new route with a stale instance list.
    const routesChanged = await refreshRoutes(full);
    const next = await readFingerprints();
    const changed = (["instances", "sentinels", "splits"] as const).filter((part) => full || next[part] !== fingerprints[part]);
    if (!routesChanged && changed.length === 0) return;
    const routes = routesChanged ? index.byHostname() : current.routes;
    const instances = changed.includes("instances") ? await loadInstances(source) : current.instances;
    const sentinels = changed.includes("sentinels") ? await loadSentinels(source) : current.sentinels;
    const splits = changed.includes("splits") ? await loadSplits(source) : current.splits;
    current = { routes, instances, sentinels, ...(splits ? { splits } : {}) };
    fingerprints.instances = next.instances;
    fingerprints.sentinels = next.sentinels;
    fingerprints.splits = next.splits;
    if (!full) logger.debug({ region, routesChanged, changed, routes: routes.size }, "route table changed");
  }

  const poller: Poller = await startPoller({
    intervalMs: deps.pollIntervalMs,
    fullEveryMs: deps.fullReloadMs,
    refresh,
    onError: (err) => logger.warn({ err, region }, "route table refresh failed; serving the previous routes"),
  });
  logger.info({ region, routes: current.routes.size }, "route table loaded");

  return {
    snapshot: () => current,
    nextRefresh: (timeoutMs) => poller.nextRefresh(timeoutMs),
    lastRefreshAt: () => poller.lastSuccessAt(),
    stop: () => poller.stop(),
  };
}

/** Parses the sentinels.addresses JSON column; anything malformed counts as no address. */
export function parseAddresses(value: string | null): string[] {
  if (!value) return [];
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.filter((a): a is string => typeof a === "string" && /^[^\s/]+:\d{1,5}$/.test(a)) : [];
  } catch {
    return [];
  }
}
