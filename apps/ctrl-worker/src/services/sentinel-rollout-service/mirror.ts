import { writeRolloutMirror, type Db } from "@ctrl/db";
import type { RolloutState, RolloutTarget } from "./api.js";
import { countOutcomes } from "./plan.js";

/** The outcome a reader sees for a target: its revert status once a rollback touched it. */
export function visibleOutcome(t: RolloutTarget): RolloutTarget["outcome"] {
  if (t.revert === "pending" || t.revert === "reverting") return "reverting";
  if (t.revert === "reverted") return "reverted";
  if (t.revert === "revert_failed") return "revert_failed";
  return t.outcome;
}

/** Mirrors the state (and the targets at `positions`, or all) to MySQL for ctrl-api. */
export async function mirrorRollout(db: Db, s: RolloutState, positions: Iterable<number> | "all"): Promise<void> {
  const c = countOutcomes(s);
  const targets = positions === "all" ? s.targets : [...positions].map((p) => s.targets[p]!);
  await writeRolloutMirror(
    db,
    {
      id: s.id,
      state: s.state,
      image: s.image,
      wavePercentages: s.wavePercentages,
      currentWave: s.currentWave,
      totalTargets: s.targets.length,
      succeeded: c.succeeded,
      failed: c.failed,
      createdBy: s.createdBy,
      stateJson: JSON.stringify(s),
      startedAt: s.startedAt,
      finishedAt: s.finishedAt ?? null,
      updatedAt: s.updatedAt,
    },
    targets.map((t) => ({
      sentinelId: t.sentinelId,
      position: t.position,
      wave: t.wave,
      region: t.region,
      environmentId: t.environmentId,
      previousImage: t.previousImage,
      outcome: visibleOutcome(t),
      reason: t.revertMessage ?? (t.reason ? `${t.reason}: ${t.message ?? ""}`.trim() : null),
      updatedAt: t.updatedAt,
    })),
  );
}
