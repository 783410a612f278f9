import {
  allocateVersion,
  findDeploymentOwner,
  findDeploymentTopologyInRegion,
  findSentinel,
  insertSentinel,
  insertTopologyRow,
  newId,
  updateSentinelDesired,
  updateTopologyRow,
  type Db,
} from "@ctrl/db";
import { terminal } from "../../errors.js";
import type { CommitResult, SentinelChange, TopologyChange } from "./api.js";

/**
 * Commits a topology change for `region` in one transaction with its version allocation.
 * Idempotent: when the row already has the requested state it keeps its version, so a retried
 * step never produces a second version (and a watcher never sees the row twice).
 * The deployment must exist and belong to `change.workspaceId` (the namespace agents run it in):
 * a change naming another workspace is refused, not written under a borrowed name.
 */
export async function commitTopologyChange(
  db: Db,
  region: string,
  change: TopologyChange,
  floor: number,
  now: number,
): Promise<CommitResult> {
  return db.transaction().execute(async (trx) => {
    const deployment = await findDeploymentOwner(trx, change.deploymentId);
    if (!deployment)
      throw terminal("not_found", `deployment ${change.deploymentId} not found; topology is committed only for existing deployments`);
    if (deployment.workspace_id !== change.workspaceId)
      throw terminal("permission_denied", `deployment ${change.deploymentId} does not belong to workspace ${change.workspaceId}`);
    const existing = await findDeploymentTopologyInRegion(trx, change.deploymentId, region);
    if (existing && existing.desired_replicas === change.desiredReplicas && existing.desired_status === change.desiredStatus) {
      return { version: Number(existing.version), changed: false };
    }
    const version = await allocateVersion(trx, region, floor);
    if (existing) {
      await updateTopologyRow(trx, existing.id, {
        desiredReplicas: change.desiredReplicas,
        desiredStatus: change.desiredStatus,
        version,
        now,
      });
    } else {
      await insertTopologyRow(trx, {
        id: newId("top"),
        workspace_id: change.workspaceId,
        deployment_id: change.deploymentId,
        region,
        desired_replicas: change.desiredReplicas,
        desired_status: change.desiredStatus,
        version,
        created_at: now,
        updated_at: now,
      });
    }
    return { version, changed: true };
  });
}

/** Commits a sentinel change for `region` (create or update), versioned like topology rows. */
export async function commitSentinelChange(
  db: Db,
  region: string,
  change: SentinelChange,
  floor: number,
  now: number,
): Promise<CommitResult> {
  return db.transaction().execute(async (trx) => {
    const existing = await findSentinel(trx, change.sentinelId);
    if (existing) {
      // Business-rule failures are terminal: a retried one would block the region's serialization point forever.
      if (existing.region !== region)
        throw terminal("failed_precondition", `sentinel ${change.sentinelId} is in region ${existing.region}, not ${region}`);
      const next = {
        image: change.image ?? existing.image,
        desired_replicas: change.desiredReplicas ?? existing.desired_replicas,
        desired_state: change.desiredState ?? existing.desired_state,
      };
      if (
        next.image === existing.image &&
        next.desired_replicas === existing.desired_replicas &&
        next.desired_state === existing.desired_state
      ) {
        return { version: Number(existing.version), changed: false };
      }
      const version = await allocateVersion(trx, region, floor);
      await updateSentinelDesired(trx, existing.id, {
        image: next.image,
        desiredReplicas: next.desired_replicas,
        desiredState: next.desired_state,
        version,
        now,
      });
      return { version, changed: true };
    }
    if (!change.create || !change.image)
      throw terminal("failed_precondition", `sentinel ${change.sentinelId} does not exist and the change has no create block or image`);
    const version = await allocateVersion(trx, region, floor);
    await duplicateIsTerminal(
      `a sentinel for environment ${change.create.environmentId} or named ${change.create.k8sName} already exists in region ${region}`,
      insertSentinel(trx, {
        id: change.sentinelId,
        workspace_id: change.create.workspaceId,
        project_id: change.create.projectId,
        environment_id: change.create.environmentId,
        region,
        k8s_name: change.create.k8sName,
        image: change.image,
        desired_replicas: change.desiredReplicas ?? 1,
        desired_state: change.desiredState ?? "running",
        cpu_millicores: change.create.cpuMillicores,
        memory_mib: change.create.memoryMib,
        health: "unknown",
        available_replicas: 0,
        running_image: null,
        addresses: null,
        version,
        created_at: now,
        updated_at: now,
      }),
    );
    return { version, changed: true };
  });
}

/** Runs an insert; a unique-key violation becomes `already_exists` (terminal) instead of a retried error. */
async function duplicateIsTerminal<T>(message: string, insert: Promise<T>): Promise<T> {
  try {
    return await insert;
  } catch (err) {
    if ((err as { code?: string }).code === "ER_DUP_ENTRY") throw terminal("already_exists", message);
    throw err;
  }
}
