import { sql } from "kysely";
import type { Db } from "../pool.js";

/**
 * Reads of the `instances` table by the edges that proxy to them (frontline and sentinel). Both
 * route to `running` instances only and poll a checksum first, reloading when it changes.
 * Checksums are `count:xor` of a 64-bit MD5 prefix per row: CRC32 is linear, so two rows changed
 * alike in one transaction cancel out in an XOR of CRCs.
 */

/** A running instance an edge may proxy to. */
export interface RunningInstance {
  deploymentId: string;
  /** `host:port` as the agent reported it (may be empty before the agent knows it). */
  address: string;
}

/**
 * The `running` instances of `region`, ordered by instance id. With `environmentId`, only
 * instances of that environment's deployments (what a sentinel may reach); without it, every
 * deployment's (what frontline routes to).
 */
export async function listRunningInstances(db: Db, region: string, environmentId?: string): Promise<RunningInstance[]> {
  if (environmentId === undefined) {
    return db
      .selectFrom("instances")
      .select(["deployment_id as deploymentId", "address"])
      .where("region", "=", region)
      .where("status", "=", "running")
      .orderBy("id")
      .execute();
  }
  return db
    .selectFrom("instances as i")
    .innerJoin("deployments as d", "d.id", "i.deployment_id")
    .select(["i.deployment_id as deploymentId", "i.address"])
    .where("d.environment_id", "=", environmentId)
    .where("i.region", "=", region)
    .where("i.status", "=", "running")
    .orderBy("i.id")
    .execute();
}

/**
 * Checksum (`count:xor`) of every instance row of one environment's deployments in `region`, any
 * status: it changes whenever {@link listRunningInstances} for the environment could.
 */
export async function readEnvironmentInstancesFingerprint(db: Db, environmentId: string, region: string): Promise<string> {
  const { rows } = await sql<{ n: number | string; x: number | string | null }>`
    SELECT COUNT(*) AS n, BIT_XOR(CAST(CONV(LEFT(MD5(CONCAT_WS('|', i.id, i.deployment_id, i.address, i.status, i.updated_at)), 16), 16, 10) AS UNSIGNED)) AS x
      FROM instances i JOIN deployments d ON d.id = i.deployment_id
     WHERE d.environment_id = ${environmentId} AND i.region = ${region}`.execute(db);
  return `${rows[0]?.n ?? 0}:${rows[0]?.x ?? 0}`;
}

/**
 * Checksums (`count:xor`) of the region's instance rows, its sentinel rows and its rollout traffic
 * splits, in one round trip: frontline checks them every poll (small tables) and reloads the part
 * that changed.
 */
export async function readRegionFingerprints(db: Db, region: string): Promise<{ instances: string; sentinels: string; splits: string }> {
  const { rows } = await sql<{ part: "instances" | "sentinels" | "splits"; n: number | string; x: number | string | null }>`
    SELECT 'instances' AS part, COUNT(*) AS n, BIT_XOR(CAST(CONV(LEFT(MD5(CONCAT_WS('|', id, deployment_id, address, status, updated_at)), 16), 16, 10) AS UNSIGNED)) AS x
      FROM instances WHERE region = ${region}
    UNION ALL
    SELECT 'sentinels', COUNT(*), BIT_XOR(CAST(CONV(LEFT(MD5(CONCAT_WS('|', id, environment_id, health, desired_state, addresses, updated_at)), 16), 16, 10) AS UNSIGNED))
      FROM sentinels WHERE region = ${region}
    UNION ALL
    SELECT 'splits', COUNT(*), BIT_XOR(CAST(CONV(LEFT(MD5(CONCAT_WS('|', environment_id, stable_deployment_id, canary_deployment_id, canary_weight, updated_at)), 16), 16, 10) AS UNSIGNED))
      FROM region_traffic_splits WHERE region = ${region}`.execute(db);
  const out = { instances: "", sentinels: "", splits: "" };
  for (const row of rows) out[row.part] = `${row.n}:${row.x ?? 0}`;
  return out;
}
