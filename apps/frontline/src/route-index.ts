import { createHash } from "node:crypto";
import type { RouteEntry } from "./route-table.js";

/** The columns of a `frontline_routes` row that routing and the change check use. */
export interface RouteRow {
  id: string;
  fully_qualified_domain_name: string;
  deployment_id: string;
  environment_id: string;
  project_id: string;
  workspace_id: string;
  /** `none` for a deployment's own hostname; shared hostnames (`branch`, `environment`, `live`) may be split. */
  sticky?: string;
  updated_at: number;
}

/**
 * The per-row hash of the route-table change check, computed exactly as the SQL does:
 * `CAST(CONV(LEFT(MD5(CONCAT_WS('|', id, fqdn, deployment_id, environment_id, updated_at)), 16), 16, 10) AS UNSIGNED)`.
 */
export function routeRowHash(row: RouteRow): bigint {
  const text = [row.id, row.fully_qualified_domain_name, row.deployment_id, row.environment_id, String(row.updated_at)].join("|");
  return BigInt(`0x${createHash("md5").update(text, "utf8").digest("hex").slice(0, 16)}`);
}

/**
 * All routes by id with their XOR checksum. Changes are applied from the rows updated recently; the
 * checksum proves (periodically) that the in-memory table equals the database's, deletes and late
 * commits included — on a mismatch the caller reloads whole.
 */
export class RouteIndex {
  private rows = new Map<string, RouteRow & { hash: bigint }>();
  private xor = 0n;
  private maxUpdated = 0;
  private byHost: Map<string, RouteEntry> | undefined;
  /** Bumped on every change, so a caller can tell whether a load changed anything. */
  version = 0;

  /** Replaces everything with `rows` (a full load). */
  replaceAll(rows: readonly RouteRow[]): void {
    const before = this.fingerprint();
    this.rows = new Map();
    this.xor = 0n;
    this.maxUpdated = 0;
    this.byHost = undefined;
    this.upsert(rows);
    if (this.fingerprint() !== before) this.version++;
  }

  /** Inserts or updates `rows` (rows updated since some time); unchanged rows cost nothing. */
  upsert(rows: readonly RouteRow[]): void {
    for (const row of rows) {
      const hash = routeRowHash(row);
      const old = this.rows.get(row.id);
      if (old?.hash === hash) continue;
      if (old) this.xor ^= old.hash;
      this.xor ^= hash;
      this.rows.set(row.id, { ...row, hash });
      if (row.updated_at > this.maxUpdated) this.maxUpdated = row.updated_at;
      this.byHost = undefined;
      this.version++;
    }
  }

  /** Number of routes held. */
  get size(): number {
    return this.rows.size;
  }

  /** `count:xor` in the same form as the database fingerprint. */
  fingerprint(): string {
    return `${this.rows.size}:${this.xor}`;
  }

  /** The newest `updated_at` loaded (0 when empty). */
  maxUpdatedAt(): number {
    return this.maxUpdated;
  }

  /** Routes by lower-case hostname (rebuilt only after a change). */
  byHostname(): Map<string, RouteEntry> {
    if (!this.byHost) {
      const map = new Map<string, RouteEntry>();
      for (const row of this.rows.values()) {
        map.set(row.fully_qualified_domain_name.toLowerCase(), {
          deploymentId: row.deployment_id,
          environmentId: row.environment_id,
          projectId: row.project_id,
          workspaceId: row.workspace_id,
          ...(row.sticky === undefined ? {} : { sticky: row.sticky }),
        });
      }
      this.byHost = map;
    }
    return this.byHost;
  }
}
