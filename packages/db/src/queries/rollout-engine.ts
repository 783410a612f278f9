import type { Db } from "../pool.js";
import type { RegionTrafficSplit } from "../tables/deployment-rollouts.js";
import type { RolloutProgress } from "./rollouts.js";

/** Rollout states a rollout never leaves (mirrors `@ctrl/rollout`'s `terminalRolloutStates`). */
const finishedStates = ["stable", "degraded", "failed", "rolled_back"];

/** True when a krane agent may serve the region (a credential of that region that is not revoked). */
export async function hasAgentInRegion(db: Db, region: string): Promise<boolean> {
  const row = await db
    .selectFrom("agent_credentials")
    .select("id")
    .where("region", "=", region)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return row !== undefined;
}

/** host:port of the ready replicas of the environment's sentinels in a region (what `/metrics` is scraped from). */
export async function listSentinelAddresses(db: Db, environmentId: string, region: string): Promise<string[]> {
  const rows = await db
    .selectFrom("sentinels")
    .select("addresses")
    .where("environment_id", "=", environmentId)
    .where("region", "=", region)
    .where("desired_state", "!=", "archived")
    .execute();
  const out: string[] = [];
  for (const row of rows) {
    try {
      const parsed: unknown = row.addresses ? JSON.parse(row.addresses) : [];
      if (Array.isArray(parsed)) for (const a of parsed) if (typeof a === "string" && a) out.push(a);
    } catch {
      // A malformed report is the agent's problem; the analysis sees no traffic from it.
    }
  }
  return out;
}

/**
 * Writes a running rollout's progress unless the rollout already finished (an emergency rollback
 * ended it meanwhile): returns false then, and the workflow stops without writing anything else.
 */
export async function advanceRollout(db: Db, deploymentId: string, progress: RolloutProgress, now: number): Promise<boolean> {
  const result = await db
    .updateTable("deployment_rollouts")
    .set((eb) => ({ ...progress, updated_at: now, revision: eb("revision", "+", 1) }))
    .where("deployment_id", "=", deploymentId)
    .where("state", "not in", finishedStates)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Moves a region's split of a running rollout, in one transaction with a check of the rollout row
 * (locked): a rollout that finished meanwhile (rolled back) gets no split back. Returns false then.
 */
export async function setRolloutSplit(
  db: Db,
  deploymentId: string,
  split: Pick<RegionTrafficSplit, "environment_id" | "region" | "workspace_id" | "stable_deployment_id" | "canary_weight">,
  now: number,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("deployment_rollouts")
      .select("state")
      .where("deployment_id", "=", deploymentId)
      .forUpdate()
      .executeTakeFirst();
    if (!row || finishedStates.includes(row.state)) return false;
    await trx
      .insertInto("region_traffic_splits")
      .values({ ...split, canary_deployment_id: deploymentId, created_at: now, updated_at: now })
      .onDuplicateKeyUpdate({
        stable_deployment_id: split.stable_deployment_id,
        canary_deployment_id: deploymentId,
        canary_weight: split.canary_weight,
        updated_at: now,
      })
      .execute();
    return true;
  });
}

/**
 * An emergency rollback of an environment: every unfinished rollout there that moves traffic region
 * by region (not `blue_green`, with a previous deployment) becomes `rolled_back`
 * (with `failureDetail` appended) and every traffic split of the environment is removed, in one
 * transaction, so each region serves what `frontline_routes` says. A one-switch rollout has taken
 * no traffic yet; the rolled-back pin already keeps it off the sticky routes, so it goes on.
 * Returns the rollouts it ended.
 */
export async function endEnvironmentRollouts(
  db: Db,
  environmentId: string,
  failureDetail: { target: string; kind: string; message: string; observed: Record<string, number> },
  now: number,
): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const running = await trx
      .selectFrom("deployment_rollouts")
      .select(["deployment_id", "failure_details", "targets"])
      .where("environment_id", "=", environmentId)
      .where("state", "not in", finishedStates)
      .where("strategy", "!=", "blue_green")
      .where("previous_deployment_id", "is not", null)
      .forUpdate()
      .execute();
    for (const row of running) {
      const details = parseList(row.failure_details);
      const targets = parseList(row.targets).map((t) =>
        t && typeof t === "object" && ["cut_over", "cutting_over"].includes((t as { state?: string }).state ?? "")
          ? { ...(t as object), state: "rolled_back", weight: 0 }
          : t,
      );
      await trx
        .updateTable("deployment_rollouts")
        .set((eb) => ({
          state: "rolled_back",
          failure_details: JSON.stringify([...details, failureDetail]),
          targets: JSON.stringify(targets),
          finished_at: now,
          updated_at: now,
          revision: eb("revision", "+", 1),
        }))
        .where("deployment_id", "=", row.deployment_id)
        .execute();
    }
    await trx.deleteFrom("region_traffic_splits").where("environment_id", "=", environmentId).execute();
    return running.map((r) => r.deployment_id);
  });
}

/** The environment's splits whose canary is `deploymentId` (regions where it takes traffic before its cutover). */
export async function listSplitsOfCanary(db: Db, deploymentId: string): Promise<RegionTrafficSplit[]> {
  return db.selectFrom("region_traffic_splits").selectAll().where("canary_deployment_id", "=", deploymentId).orderBy("region").execute();
}

function parseList(json: string): unknown[] {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}
