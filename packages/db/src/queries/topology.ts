import type { Db } from "../pool.js";
import type { DeploymentTopology, DesiredStatus, NewDeploymentTopology } from "../tables/deployment-topology.js";
import type { InstanceStatus } from "../tables/instances.js";

/** The topology rows of a deployment, one per region. */
export async function listDeploymentTopology(db: Db, deploymentId: string): Promise<DeploymentTopology[]> {
  return db.selectFrom("deployment_topology").selectAll().where("deployment_id", "=", deploymentId).orderBy("region").execute();
}

/** Desired versus reported state of a deployment in one region. */
export interface RegionReadiness {
  region: string;
  desiredReplicas: number;
  desiredStatus: "running" | "stopped";
  running: number;
  pending: number;
  failed: number;
}

/** A failed instance as the agent reported it. */
export interface InstanceFailure {
  region: string;
  k8sName: string;
  exitCode: number | null;
  failureReason: string | null;
}

/** What the readiness wait looks at: per-region counts, failed instances, a running address. */
export interface DeploymentReadiness {
  regions: RegionReadiness[];
  failures: InstanceFailure[];
  /** host:port of one running instance (for the OpenAPI scrape), if any. */
  runningAddress: string | null;
  /** Why instances are still pending, as their agents reported it (e.g. the last health check's result). */
  pendingReasons?: { k8sName: string; region: string; reason: string }[];
}

/** Compares a deployment's topology with the instances its agents reported. */
export async function loadDeploymentReadiness(db: Db, deploymentId: string): Promise<DeploymentReadiness> {
  const [topology, instances] = await Promise.all([
    listDeploymentTopology(db, deploymentId),
    db
      .selectFrom("instances")
      .select(["region", "k8s_name", "status", "exit_code", "failure_reason", "address"])
      .where("deployment_id", "=", deploymentId)
      .orderBy("k8s_name")
      .execute(),
  ]);
  const count = (region: string, status: InstanceStatus) => instances.filter((i) => i.region === region && i.status === status).length;
  return {
    regions: topology.map((t) => ({
      region: t.region,
      desiredReplicas: t.desired_replicas,
      desiredStatus: t.desired_status,
      running: count(t.region, "running"),
      pending: count(t.region, "pending"),
      failed: count(t.region, "failed"),
    })),
    failures: instances
      .filter((i) => i.status === "failed")
      .map((i) => ({ region: i.region, k8sName: i.k8s_name, exitCode: i.exit_code, failureReason: i.failure_reason })),
    runningAddress: instances.find((i) => i.status === "running" && i.address)?.address ?? null,
    pendingReasons: instances
      .filter((i) => i.status === "pending" && i.failure_reason)
      .map((i) => ({ k8sName: i.k8s_name, region: i.region, reason: i.failure_reason! })),
  };
}

/** The sentinel of an environment in a region, if one exists. */
export async function findSentinelOfEnvironment(db: Db, environmentId: string, region: string) {
  return db.selectFrom("sentinels").selectAll().where("environment_id", "=", environmentId).where("region", "=", region).executeTakeFirst();
}

/** The deployment's topology row in `region`, or undefined. */
export async function findDeploymentTopologyInRegion(
  db: Db,
  deploymentId: string,
  region: string,
): Promise<DeploymentTopology | undefined> {
  return db
    .selectFrom("deployment_topology")
    .selectAll()
    .where("deployment_id", "=", deploymentId)
    .where("region", "=", region)
    .executeTakeFirst();
}

/** Inserts a topology row (its version allocated by the caller's transaction). */
export async function insertTopologyRow(db: Db, row: NewDeploymentTopology): Promise<void> {
  await db.insertInto("deployment_topology").values(row).execute();
}

/** Sets a topology row's desired state and its new version. */
export async function updateTopologyRow(
  db: Db,
  topologyId: string,
  change: { desiredReplicas: number; desiredStatus: DesiredStatus; version: number; now: number },
): Promise<void> {
  await db
    .updateTable("deployment_topology")
    .set({
      desired_replicas: change.desiredReplicas,
      desired_status: change.desiredStatus,
      version: change.version,
      updated_at: change.now,
    })
    .where("id", "=", topologyId)
    .execute();
}
