import { sql, type Transaction } from "kysely";
import type { Db } from "../pool.js";
import type { Database } from "../schema.js";

/**
 * Locks the region's version counter inside `trx` and returns the next version, at least
 * `floor + 1`. Held until `trx` commits, this lock is the per-region serialization point: a row
 * written with the returned version commits before any later version is allocated, so commit
 * order equals version order (docs/architecture.md "Versions").
 *
 * If the counter row is missing (a fresh or restored database) it is recovered from the highest
 * version of every versioned table in the region.
 */
export async function allocateVersion(trx: Transaction<Database>, region: string, floor = 0): Promise<number> {
  const current = await trx.selectFrom("region_versions").select("version").where("region", "=", region).forUpdate().executeTakeFirst();
  let base = current?.version;
  if (base === undefined) {
    // Recover from MAX(version), then create the counter row. INSERT IGNORE + re-select under lock
    // handles two first writers racing on a brand-new region.
    const recovered = await maxCommittedVersion(trx, region);
    await sql`INSERT IGNORE INTO region_versions (region, version) VALUES (${region}, ${recovered})`.execute(trx);
    const locked = await trx
      .selectFrom("region_versions")
      .select("version")
      .where("region", "=", region)
      .forUpdate()
      .executeTakeFirstOrThrow();
    base = locked.version;
  }
  const next = Math.max(Number(base), floor) + 1;
  await trx.updateTable("region_versions").set({ version: next }).where("region", "=", region).execute();
  return next;
}

/** The highest version committed in any versioned table of `region` (0 when none). */
export async function maxCommittedVersion(db: Db | Transaction<Database>, region: string): Promise<number> {
  const row = await sql<{ v: number | string | null }>`
    SELECT GREATEST(
      COALESCE((SELECT MAX(version) FROM deployment_topology WHERE region = ${region}), 0),
      COALESCE((SELECT MAX(version) FROM sentinels WHERE region = ${region}), 0),
      COALESCE((SELECT version FROM region_versions WHERE region = ${region}), 0)
    ) AS v`.execute(db);
  return Number(row.rows[0]?.v ?? 0);
}
