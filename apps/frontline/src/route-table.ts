import { sql, type Db } from "@ctrl/db";
import { startPoller, type Poller } from "@ctrl/proxy";
import type { Logger } from "pino";

/** One routed hostname. */
export interface RouteEntry {
  deploymentId: string;
  environmentId: string;
  projectId: string;
  workspaceId: string;
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
}

/** A running route table. */
export interface RouteTable extends RouteSource {
  stop(): Promise<void>;
}

type Part = "routes" | "instances" | "sentinels";

/**
 * Loads routes, running instances and sentinels of the region into memory and keeps them current by
 * polling one cheap query: a row count and an XOR of per-row 64-bit MD5 prefixes for each table (so
 * updates, inserts and deletes are all seen, even two within one millisecond). Not CRC32: it is
 * linear, so two routes moved alike in one transaction (same deployment ids, same updated_at) change
 * their CRCs by the same amount and the XOR cancels out — a rollback went unseen. Only a changed part
 * is reloaded. The snapshot is replaced atomically, so a request in flight keeps the upstream it
 * chose and the next request sees the new routes.
 */
export async function startRouteTable(deps: RouteTableDeps): Promise<RouteTable> {
  const { db, region, logger } = deps;
  let current: RouteSnapshot = { routes: new Map(), instances: new Map(), sentinels: new Map() };
  const fingerprints: Record<Part, string> = { routes: "", instances: "", sentinels: "" };

  async function readFingerprints(): Promise<Record<Part, string>> {
    const { rows } = await sql<{ part: Part; n: number | string; x: number | string | null }>`
      SELECT 'routes' AS part, COUNT(*) AS n,
             BIT_XOR(CAST(CONV(LEFT(MD5(CONCAT_WS('|', id, fully_qualified_domain_name, deployment_id, environment_id, updated_at)), 16), 16, 10) AS UNSIGNED)) AS x
        FROM frontline_routes
      UNION ALL
      SELECT 'instances', COUNT(*), BIT_XOR(CAST(CONV(LEFT(MD5(CONCAT_WS('|', id, deployment_id, address, status, updated_at)), 16), 16, 10) AS UNSIGNED))
        FROM instances WHERE region = ${region}
      UNION ALL
      SELECT 'sentinels', COUNT(*), BIT_XOR(CAST(CONV(LEFT(MD5(CONCAT_WS('|', id, environment_id, health, desired_state, addresses, updated_at)), 16), 16, 10) AS UNSIGNED))
        FROM sentinels WHERE region = ${region}`.execute(db);
    const out: Record<Part, string> = { routes: "", instances: "", sentinels: "" };
    for (const row of rows) out[row.part] = `${row.n}:${row.x ?? 0}`;
    return out;
  }

  async function loadRoutes(): Promise<Map<string, RouteEntry>> {
    const rows = await db
      .selectFrom("frontline_routes")
      .select(["fully_qualified_domain_name", "deployment_id", "environment_id", "project_id", "workspace_id"])
      .execute();
    const routes = new Map<string, RouteEntry>();
    for (const row of rows) {
      routes.set(row.fully_qualified_domain_name.toLowerCase(), {
        deploymentId: row.deployment_id,
        environmentId: row.environment_id,
        projectId: row.project_id,
        workspaceId: row.workspace_id,
      });
    }
    return routes;
  }

  async function loadInstances(): Promise<Map<string, string[]>> {
    const rows = await db
      .selectFrom("instances")
      .select(["deployment_id", "address"])
      .where("region", "=", region)
      .where("status", "=", "running")
      .orderBy("id")
      .execute();
    const instances = new Map<string, string[]>();
    for (const row of rows) {
      if (!row.address) continue;
      const list = instances.get(row.deployment_id) ?? [];
      list.push(row.address);
      instances.set(row.deployment_id, list);
    }
    return instances;
  }

  async function loadSentinels(): Promise<Map<string, SentinelEntry>> {
    const rows = await db
      .selectFrom("sentinels")
      .select(["id", "environment_id", "health", "desired_state", "addresses"])
      .where("region", "=", region)
      .execute();
    const sentinels = new Map<string, SentinelEntry>();
    for (const row of rows) {
      const addresses = parseAddresses(row.addresses);
      sentinels.set(row.environment_id, {
        sentinelId: row.id,
        healthy: row.health === "healthy" && row.desired_state === "running" && addresses.length > 0,
        addresses,
      });
    }
    return sentinels;
  }

  async function refresh(full: boolean): Promise<void> {
    const next = await readFingerprints();
    const changed = (Object.keys(next) as Part[]).filter((part) => full || next[part] !== fingerprints[part]);
    if (changed.length === 0) return;
    // Routes before instances: instances of a new target are running before its route moves, so
    // reading instances second never pairs a new route with a stale instance list.
    const routes = changed.includes("routes") ? await loadRoutes() : current.routes;
    const instances = changed.includes("instances") ? await loadInstances() : current.instances;
    const sentinels = changed.includes("sentinels") ? await loadSentinels() : current.sentinels;
    current = { routes, instances, sentinels };
    Object.assign(fingerprints, next);
    if (!full) logger.debug({ region, changed, routes: routes.size }, "route table changed");
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
