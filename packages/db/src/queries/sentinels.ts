import type { Db } from "../pool.js";
import type { Sentinel } from "../tables/sentinels.js";

/** A sentinel as frontline routes to it. */
export type EdgeSentinelRow = Pick<Sentinel, "id" | "environment_id" | "health" | "desired_state" | "addresses">;

/** Every sentinel of `region`, any state (frontline decides which are healthy enough to route to). */
export async function listRegionSentinels(db: Db, region: string): Promise<EdgeSentinelRow[]> {
  return db
    .selectFrom("sentinels")
    .select(["id", "environment_id", "health", "desired_state", "addresses"])
    .where("region", "=", region)
    .execute();
}
