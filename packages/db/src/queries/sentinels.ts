import type { Db } from "../pool.js";
import type { NewSentinel, Sentinel, SentinelDesiredState } from "../tables/sentinels.js";

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

/** Inserts a sentinel row (its version allocated by the caller's transaction). */
export async function insertSentinel(db: Db, row: NewSentinel): Promise<void> {
  await db.insertInto("sentinels").values(row).execute();
}

/** Sets a sentinel's desired image, replicas and state and its new version. */
export async function updateSentinelDesired(
  db: Db,
  sentinelId: string,
  change: { image: string; desiredReplicas: number; desiredState: SentinelDesiredState; version: number; now: number },
): Promise<void> {
  await db
    .updateTable("sentinels")
    .set({
      image: change.image,
      desired_replicas: change.desiredReplicas,
      desired_state: change.desiredState,
      version: change.version,
      updated_at: change.now,
    })
    .where("id", "=", sentinelId)
    .execute();
}
