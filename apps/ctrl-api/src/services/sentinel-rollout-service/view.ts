import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { RolloutState } from "@ctrl/ctrl-worker/api";
import { findRollout, latestRollout, type Db, type SentinelRolloutRow } from "@ctrl/db";
import type { FleetRolloutSchema } from "@ctrl/proto";

type FleetRollout = MessageInitShape<typeof FleetRolloutSchema>;

/** The outcome readers see for a target (its revert status once a rollback touched it). */
function visibleOutcome(t: RolloutState["targets"][number]): string {
  if (t.revert === "pending" || t.revert === "reverting") return "reverting";
  return t.revert ?? t.outcome;
}

/** A rollout state (as the worker holds and MySQL mirrors it) as the wire message. */
export function rolloutMessage(s: RolloutState, withTargets = true): FleetRollout {
  const count = (o: string) => s.targets.filter((t) => t.outcome === o).length;
  return {
    id: s.id,
    state: s.state,
    image: s.image,
    wavePercentages: s.wavePercentages,
    currentWave: s.currentWave,
    waves: s.waves.map((w) => {
      const of = s.targets.filter((t) => t.wave === w.index);
      return {
        index: w.index,
        percent: w.percent,
        size: w.size,
        cumulative: w.cumulative,
        status: w.status,
        succeeded: of.filter((t) => t.outcome === "succeeded").length,
        failed: of.filter((t) => t.outcome === "failed" || t.outcome === "skipped").length,
        startedAt: BigInt(w.startedAt ?? 0),
        endedAt: BigInt(w.endedAt ?? 0),
      };
    }),
    targets: withTargets
      ? s.targets.map((t) => ({
          sentinelId: t.sentinelId,
          region: t.region,
          environmentId: t.environmentId,
          wave: t.wave,
          outcome: visibleOutcome(t),
          reason: t.reason ?? "",
          message: t.revertMessage ?? t.message ?? "",
          ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}),
          previousImage: t.previousImage,
          updatedAt: BigInt(t.updatedAt),
        }))
      : [],
    createdBy: s.createdBy,
    startedAt: BigInt(s.startedAt),
    updatedAt: BigInt(s.updatedAt),
    finishedAt: BigInt(s.finishedAt ?? 0),
    pausedReason: s.pausedReason ?? "",
    webhookHost: s.webhookHost ?? "",
    total: s.targets.length,
    succeeded: count("succeeded"),
    failed: count("failed"),
    pending: count("pending"),
    deploying: count("deploying"),
    skipped: count("skipped"),
    reverted: s.targets.filter((t) => t.revert === "reverted").length,
    concurrency: s.concurrency,
  };
}

/** Parses a mirrored row's state. */
export function stateOfRow(row: SentinelRolloutRow): RolloutState {
  return JSON.parse(row.state_json) as RolloutState;
}

/** The rollout `rolloutId` names, or the latest when empty; not_found when there is none. */
export async function loadRolloutRow(db: Db, rolloutId: string): Promise<SentinelRolloutRow> {
  const id = rolloutId.trim();
  if (id.length > 64) throw new ConnectError("rollout_id must be at most 64 characters", Code.InvalidArgument);
  const row = id ? await findRollout(db, id) : await latestRollout(db);
  if (!row) throw new ConnectError(id ? `rollout ${id} not found` : "no fleet rollout has been started yet", Code.NotFound);
  return row;
}
