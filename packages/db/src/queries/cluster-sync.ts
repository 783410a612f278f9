import type { Transaction } from "kysely";
import { newId } from "../ids.js";
import type { Db } from "../pool.js";
import type { Database } from "../schema.js";
import type { DesiredStatus } from "../tables/deployment-topology.js";
import type { InstanceStatus } from "../tables/instances.js";
import type { SentinelDesiredState, SentinelHealth } from "../tables/sentinels.js";

/**
 * Queries of the agents' sync protocol (ClusterService). Reads rely on the versioning invariant
 * (docs/architecture.md "Versions"): within a region, commit order equals version order, so
 * `version > cursor ORDER BY version` never skips a row that commits later.
 */

/** A topology row with everything an agent needs to apply it. */
export interface TopologySyncRow {
  version: number;
  region: string;
  deploymentId: string;
  workspaceId: string;
  projectId: string;
  environmentId: string;
  desiredStatus: DesiredStatus;
  desiredReplicas: number;
  image: string | null;
  buildId: string | null;
  cpuMillicores: number;
  memoryMib: number;
  /** JSON array or null */
  command: string | null;
  port: number;
  healthCheckPath: string;
}

/** A sentinel row as agents see it. */
export interface SentinelSyncRow {
  version: number;
  region: string;
  sentinelId: string;
  k8sName: string;
  workspaceId: string;
  projectId: string;
  environmentId: string;
  image: string;
  desiredReplicas: number;
  desiredState: SentinelDesiredState;
  cpuMillicores: number;
  memoryMib: number;
}

function topologyQuery(db: Db | Transaction<Database>) {
  return db
    .selectFrom("deployment_topology as t")
    .innerJoin("deployments as d", "d.id", "t.deployment_id")
    .select([
      "t.version as version",
      "t.region as region",
      "t.deployment_id as deploymentId",
      "t.workspace_id as workspaceId",
      "d.project_id as projectId",
      "d.environment_id as environmentId",
      "t.desired_status as desiredStatus",
      "t.desired_replicas as desiredReplicas",
      "d.image as image",
      "d.build_id as buildId",
      "d.cpu_millicores as cpuMillicores",
      "d.memory_mib as memoryMib",
      "d.command as command",
      "d.port as port",
      "d.health_check_path as healthCheckPath",
    ]);
}

function sentinelQuery(db: Db | Transaction<Database>) {
  return db
    .selectFrom("sentinels")
    .select([
      "version",
      "region",
      "id as sentinelId",
      "k8s_name as k8sName",
      "workspace_id as workspaceId",
      "project_id as projectId",
      "environment_id as environmentId",
      "image",
      "desired_replicas as desiredReplicas",
      "desired_state as desiredState",
      "cpu_millicores as cpuMillicores",
      "memory_mib as memoryMib",
    ]);
}

const numeric = <T extends { version: number | string }>(rows: T[]): T[] => rows.map((r) => ({ ...r, version: Number(r.version) }));

/** Topology rows of `region` with version > `after`, in version order (uses the (region, version) key). */
export async function listTopologyAfter(db: Db, region: string, after: number, limit: number): Promise<TopologySyncRow[]> {
  return numeric(
    await topologyQuery(db).where("t.region", "=", region).where("t.version", ">", after).orderBy("t.version").limit(limit).execute(),
  );
}

/**
 * The region's desired deployments as of one consistent snapshot: every `running` topology row,
 * and the highest topology version V of that snapshot. A watcher that applies these and then
 * streams `version > V` has seen every change. Both reads run in one REPEATABLE READ transaction,
 * so they see the same snapshot.
 */
export async function snapshotTopology(db: Db, region: string): Promise<{ version: number; rows: TopologySyncRow[] }> {
  return db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute(async (trx) => {
      const version = await maxTopologyVersion(trx, region);
      const rows = await topologyQuery(trx)
        .where("t.region", "=", region)
        .where("t.desired_status", "=", "running")
        .orderBy("t.version")
        .execute();
      return { version, rows: numeric(rows) };
    });
}

/** Highest topology version of `region` (0 when none). */
export async function maxTopologyVersion(db: Db, region: string): Promise<number> {
  const row = await db
    .selectFrom("deployment_topology")
    .select((eb) => eb.fn.max("version").as("v"))
    .where("region", "=", region)
    .executeTakeFirst();
  return Number(row?.v ?? 0);
}

/** One deployment's topology row in `region`, or undefined. */
export async function findTopologyRow(db: Db, region: string, deploymentId: string): Promise<TopologySyncRow | undefined> {
  const rows = numeric(await topologyQuery(db).where("t.region", "=", region).where("t.deployment_id", "=", deploymentId).execute());
  return rows[0];
}

/** Sentinel rows of `region` with version > `after`, in version order. */
export async function listSentinelsAfter(db: Db, region: string, after: number, limit: number): Promise<SentinelSyncRow[]> {
  return numeric(
    await sentinelQuery(db).where("region", "=", region).where("version", ">", after).orderBy("version").limit(limit).execute(),
  );
}

/** The region's sentinels that are not archived, and the snapshot's highest sentinel version. */
export async function snapshotSentinels(db: Db, region: string): Promise<{ version: number; rows: SentinelSyncRow[] }> {
  return db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute(async (trx) => {
      const version = await maxSentinelVersion(trx, region);
      const rows = await sentinelQuery(trx)
        .where("region", "=", region)
        .where("desired_state", "!=", "archived")
        .orderBy("version")
        .execute();
      return { version, rows: numeric(rows) };
    });
}

/** Highest sentinel version of `region` (0 when none). */
export async function maxSentinelVersion(db: Db, region: string): Promise<number> {
  const row = await db
    .selectFrom("sentinels")
    .select((eb) => eb.fn.max("version").as("v"))
    .where("region", "=", region)
    .executeTakeFirst();
  return Number(row?.v ?? 0);
}

/** One sentinel by id (any region), or undefined. */
export async function findSentinelSyncRow(db: Db, sentinelId: string): Promise<SentinelSyncRow | undefined> {
  return numeric(await sentinelQuery(db).where("id", "=", sentinelId).execute())[0];
}

/** An instance as an agent reports it. */
export interface ReportedInstance {
  k8sName: string;
  address: string;
  cpuMillicores: number;
  memoryMib: number;
  status: InstanceStatus;
  exitCode: number | null;
  haltIntent: string | null;
  failureReason: string | null;
  /** The structured halt intent (JSON) the agent read from the app's status path; undefined leaves it unchanged. */
  haltDetail?: string | null;
}

/**
 * Replaces what `region` knows of a deployment's instances with `instances`: reported ones are
 * upserted (by region + k8s name), the deployment's other instances in the region are removed.
 * One transaction, so readers never see half a report.
 */
export async function replaceReportedInstances(
  db: Db,
  owner: { deploymentId: string; workspaceId: string; projectId: string },
  region: string,
  instances: ReportedInstance[],
  now: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const i of instances) {
      await trx
        .insertInto("instances")
        .values({
          id: newId("ins"),
          workspace_id: owner.workspaceId,
          project_id: owner.projectId,
          deployment_id: owner.deploymentId,
          region,
          k8s_name: i.k8sName,
          address: i.address,
          cpu_millicores: i.cpuMillicores,
          memory_mib: i.memoryMib,
          status: i.status,
          exit_code: i.exitCode,
          halt_intent: i.haltIntent,
          failure_reason: i.failureReason,
          ...(i.haltDetail !== undefined ? { halt_detail: i.haltDetail } : {}),
          created_at: now,
          updated_at: now,
        })
        .onDuplicateKeyUpdate({
          workspace_id: owner.workspaceId,
          project_id: owner.projectId,
          deployment_id: owner.deploymentId,
          address: i.address,
          cpu_millicores: i.cpuMillicores,
          memory_mib: i.memoryMib,
          status: i.status,
          exit_code: i.exitCode,
          halt_intent: i.haltIntent,
          failure_reason: i.failureReason,
          ...(i.haltDetail !== undefined ? { halt_detail: i.haltDetail } : {}),
          updated_at: now,
        })
        .execute();
    }
    let stale = trx.deleteFrom("instances").where("deployment_id", "=", owner.deploymentId).where("region", "=", region);
    if (instances.length)
      stale = stale.where(
        "k8s_name",
        "not in",
        instances.map((i) => i.k8sName),
      );
    await stale.execute();
  });
}

/** Removes every instance of a deployment in `region` (the agent deleted it). */
export async function deleteReportedInstances(db: Db, deploymentId: string, region: string): Promise<void> {
  await db.deleteFrom("instances").where("deployment_id", "=", deploymentId).where("region", "=", region).execute();
}

/** Records a sentinel's reported health; false when no sentinel has that k8s name in `region`. */
export async function recordSentinelReport(
  db: Db,
  region: string,
  k8sName: string,
  report: {
    availableReplicas: number;
    health: SentinelHealth;
    runningImage: string | null;
    addresses: string[];
    failure?: { reason: string; image: string } | null;
  },
  now: number,
): Promise<boolean> {
  const row = await db.selectFrom("sentinels").select("id").where("region", "=", region).where("k8s_name", "=", k8sName).executeTakeFirst();
  if (!row) return false;
  await db
    .updateTable("sentinels")
    .set({
      available_replicas: report.availableReplicas,
      health: report.health,
      running_image: report.runningImage,
      addresses: JSON.stringify(report.addresses),
      // Only agents that report failures (issue 12) set or clear them; older reports leave them as they are.
      ...(report.failure !== undefined
        ? { failure_reason: report.failure?.reason ?? null, failure_image: report.failure?.image ?? null }
        : {}),
      updated_at: now,
    })
    .where("id", "=", row.id)
    .execute();
  return true;
}
