import { sql } from "kysely";
import type { Db } from "../pool.js";
import type { Sentinel } from "../tables/sentinels.js";
import type {
  SentinelRolloutOutcome,
  SentinelRolloutRow,
  SentinelRolloutState,
  SentinelRolloutTargetRow,
} from "../tables/sentinel-rollouts.js";

/** A sentinel a fleet rollout targets, with the image it has now (captured at start). */
export interface RolloutTargetCandidate {
  sentinelId: string;
  region: string;
  environmentId: string;
  image: string;
}

/**
 * Every sentinel that is not archived, in a stable order (region, environment, id): the targets of
 * a fleet rollout. The order is recorded at start, so later inserts never reshuffle the waves.
 */
export async function listRolloutCandidates(db: Db): Promise<RolloutTargetCandidate[]> {
  const rows = await db
    .selectFrom("sentinels")
    .select(["id", "region", "environment_id", "image"])
    .where("desired_state", "!=", "archived")
    .orderBy("region")
    .orderBy("environment_id")
    .orderBy("id")
    .execute();
  return rows.map((r) => ({ sentinelId: r.id, region: r.region, environmentId: r.environment_id, image: r.image }));
}

/** One sentinel row, or undefined. */
export async function findSentinel(db: Db, sentinelId: string): Promise<Sentinel | undefined> {
  return db.selectFrom("sentinels").selectAll().where("id", "=", sentinelId).executeTakeFirst();
}

/**
 * Arms a deploy of `image` on the sentinel: ctrl-api resolves `awakeableId` when the agent reports
 * that image healthy (or failed). Written before the new image is committed, so no report about
 * it can come before the awakeable is known.
 */
export async function armSentinelDeploy(db: Db, sentinelId: string, awakeableId: string, image: string, now: number): Promise<void> {
  await db
    .updateTable("sentinels")
    .set({ deploy_status: "progressing", deploy_awakeable_id: awakeableId, deploy_image: image, updated_at: now })
    .where("id", "=", sentinelId)
    .execute();
}

/** Ends a deploy: `ready` or `failed`, the awakeable forgotten (only if it is still this one). */
export async function finishSentinelDeploy(
  db: Db,
  sentinelId: string,
  awakeableId: string,
  status: "ready" | "failed",
  now: number,
): Promise<void> {
  await db.updateTable("sentinels").set({ deploy_status: status, updated_at: now }).where("id", "=", sentinelId).execute();
  await db
    .updateTable("sentinels")
    .set({ deploy_awakeable_id: null, deploy_image: null })
    .where("id", "=", sentinelId)
    .where("deploy_awakeable_id", "=", awakeableId)
    .execute();
}

/** The deploy a sentinel waits for, as ctrl-api needs it when a report arrives. */
export interface SentinelDeployWait {
  sentinelId: string;
  awakeableId: string;
  image: string;
  desiredReplicas: number;
}

/** The armed deploy of the sentinel named `k8sName` in `region`, or undefined when none waits. */
export async function findSentinelDeployWait(db: Db, region: string, k8sName: string): Promise<SentinelDeployWait | undefined> {
  const row = await db
    .selectFrom("sentinels")
    .select(["id", "deploy_awakeable_id", "deploy_image", "desired_replicas"])
    .where("region", "=", region)
    .where("k8s_name", "=", k8sName)
    .executeTakeFirst();
  if (!row?.deploy_awakeable_id || !row.deploy_image) return undefined;
  return { sentinelId: row.id, awakeableId: row.deploy_awakeable_id, image: row.deploy_image, desiredReplicas: row.desired_replicas };
}

/** Forgets an awakeable once resolved (only if it is still the armed one). */
export async function clearSentinelDeployWait(db: Db, sentinelId: string, awakeableId: string): Promise<void> {
  await db
    .updateTable("sentinels")
    .set({ deploy_awakeable_id: null })
    .where("id", "=", sentinelId)
    .where("deploy_awakeable_id", "=", awakeableId)
    .execute();
}

/** The mirrored summary of a rollout (what the row holds besides the state JSON). */
export interface RolloutMirror {
  id: string;
  state: SentinelRolloutState;
  image: string;
  wavePercentages: number[];
  currentWave: number;
  totalTargets: number;
  succeeded: number;
  failed: number;
  createdBy: string;
  stateJson: string;
  startedAt: number;
  finishedAt: number | null;
  updatedAt: number;
}

/** A target row to upsert. */
export interface RolloutTargetMirror {
  sentinelId: string;
  position: number;
  wave: number;
  region: string;
  environmentId: string;
  previousImage: string;
  outcome: SentinelRolloutOutcome;
  reason: string | null;
  updatedAt: number;
}

/**
 * Writes a rollout's mirror and the given target rows in one transaction, bumping `revision`.
 * Idempotent: a replayed write of the same state leaves the same rows (only the revision moves).
 */
export async function writeRolloutMirror(db: Db, rollout: RolloutMirror, targets: RolloutTargetMirror[]): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const values = {
      state: rollout.state,
      image: rollout.image,
      wave_percentages: JSON.stringify(rollout.wavePercentages),
      current_wave: rollout.currentWave,
      total_targets: rollout.totalTargets,
      succeeded: rollout.succeeded,
      failed: rollout.failed,
      created_by: rollout.createdBy,
      state_json: rollout.stateJson,
      started_at: rollout.startedAt,
      finished_at: rollout.finishedAt,
      updated_at: rollout.updatedAt,
    };
    await trx
      .insertInto("sentinel_rollouts")
      .values({ id: rollout.id, ...values, revision: 1 })
      .onDuplicateKeyUpdate((eb) => ({ ...values, revision: eb("revision", "+", 1) }))
      .execute();
    // Chunked so a 10 000-sentinel fleet stays under the packet limit.
    for (let i = 0; i < targets.length; i += 500) {
      const chunk = targets.slice(i, i + 500).map((t) => ({
        rollout_id: rollout.id,
        sentinel_id: t.sentinelId,
        position: t.position,
        wave: t.wave,
        region: t.region,
        environment_id: t.environmentId,
        previous_image: t.previousImage,
        outcome: t.outcome,
        reason: t.reason,
        updated_at: t.updatedAt,
      }));
      await trx
        .insertInto("sentinel_rollout_targets")
        .values(chunk)
        .onDuplicateKeyUpdate({ outcome: sql`VALUES(outcome)`, reason: sql`VALUES(reason)`, updated_at: sql`VALUES(updated_at)` })
        .execute();
    }
  });
}

/** A rollout by id, or undefined. */
export async function findRollout(db: Db, rolloutId: string): Promise<SentinelRolloutRow | undefined> {
  return db.selectFrom("sentinel_rollouts").selectAll().where("id", "=", rolloutId).executeTakeFirst();
}

/** The most recently started rollout, or undefined when there was none. */
export async function latestRollout(db: Db): Promise<SentinelRolloutRow | undefined> {
  return db.selectFrom("sentinel_rollouts").selectAll().orderBy("started_at", "desc").orderBy("id", "desc").limit(1).executeTakeFirst();
}

/** Rollouts, newest first (history), at most `limit`. */
export async function listRollouts(db: Db, limit: number): Promise<SentinelRolloutRow[]> {
  return db.selectFrom("sentinel_rollouts").selectAll().orderBy("started_at", "desc").orderBy("id", "desc").limit(limit).execute();
}

/** The target rows of a rollout, in rollout order. */
export async function listRolloutTargets(db: Db, rolloutId: string): Promise<SentinelRolloutTargetRow[]> {
  return db.selectFrom("sentinel_rollout_targets").selectAll().where("rollout_id", "=", rolloutId).orderBy("position").execute();
}

/** Reasons an agent reports for a sentinel image that does not run. */
export type SentinelFailureReason = "image_pull_failed" | "invalid_manifest" | "start_failed" | "health_timeout";

/**
 * Splits the failure text an agent reports and `sentinels.failure_reason` holds
 * (`image_pull_failed: …`, `start_failed: exited with code 1 …`) into its reason and message.
 * Unknown texts count as `start_failed`.
 */
export function parseSentinelFailure(text: string): { reason: SentinelFailureReason; message: string; exitCode?: number } {
  const m = /^(image_pull_failed|invalid_manifest|start_failed|health_timeout)\b:?\s*([\s\S]*)$/.exec(text.trim());
  const reason = (m?.[1] as SentinelFailureReason | undefined) ?? "start_failed";
  const message = (m?.[2] ?? text).trim() || reason;
  const exit = /(?:exit(?:ed)?(?: with)? code|exit_code) (-?\d+)/.exec(message);
  return { reason, message, ...(exit ? { exitCode: Number(exit[1]) } : {}) };
}
