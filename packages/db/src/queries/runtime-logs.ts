import { sql } from "kysely";
import type { Db } from "../pool.js";
import type { RuntimeLogLine } from "../tables/runtime-logs.js";

/** One line an agent pushed. */
export interface RuntimeLogWrite {
  deploymentId: string;
  instance: string;
  stream: string;
  position: number;
  line: string;
  observedAt: number;
}

/**
 * Stores pushed lines of `region`'s instances; a line already stored (same region, instance, stream
 * and position: a retried push) is skipped. Returns how many were new.
 */
export async function appendRuntimeLogs(db: Db, region: string, lines: RuntimeLogWrite[]): Promise<number> {
  if (lines.length === 0) return 0;
  const result = await db
    .insertInto("runtime_logs")
    .ignore()
    .values(
      lines.map((l) => ({
        deployment_id: l.deploymentId,
        region,
        instance: l.instance,
        stream: l.stream,
        position: l.position,
        line: l.line,
        observed_at: l.observedAt,
      })),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

/** Which lines {@link readRuntimeLogs} returns. */
export interface RuntimeLogQuery {
  /** Lines with `id > afterSeq`. */
  afterSeq: number;
  /** Lines observed at or after this (Unix ms); 0 = no bound. */
  since: number;
  /** Only this instance's lines. */
  instance?: string;
  limit: number;
  /** With afterSeq 0: the last `limit` lines instead of the first. */
  tail: boolean;
}

/** A page of a deployment's runtime log, oldest first. */
export async function readRuntimeLogs(db: Db, deploymentId: string, q: RuntimeLogQuery): Promise<RuntimeLogLine[]> {
  let query = db.selectFrom("runtime_logs").selectAll().where("deployment_id", "=", deploymentId).where("id", ">", q.afterSeq);
  if (q.since > 0) query = query.where("observed_at", ">=", q.since);
  if (q.instance) query = query.where("instance", "=", q.instance);
  if (q.tail && q.afterSeq === 0) {
    const rows = await query.orderBy("id", "desc").limit(q.limit).execute();
    return rows.reverse().map(numbers);
  }
  return (await query.orderBy("id", "asc").limit(q.limit).execute()).map(numbers);
}

/** The instances of a deployment that printed at least one line, by name. */
export async function listRuntimeLogInstances(db: Db, deploymentId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("runtime_logs")
    .select(sql<string>`distinct instance`.as("instance"))
    .where("deployment_id", "=", deploymentId)
    .orderBy("instance")
    .execute();
  return rows.map((r) => r.instance);
}

// bigint columns arrive as strings (bigNumberStrings).
function numbers(row: RuntimeLogLine): RuntimeLogLine {
  return { ...row, id: Number(row.id), position: Number(row.position), observed_at: Number(row.observed_at) };
}
