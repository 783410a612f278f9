import { listDeploymentTopology, listRoutesOfDeployment, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { terminal } from "../../errors.js";
import { versioningServiceName, type VersioningServiceApi } from "../versioning-service/api.js";
import type { DesiredStateRequest, DesiredStateResult } from "./api.js";
import { loadDeployment, reject, type Checked } from "./load.js";

interface DesiredStatePlan {
  workspaceId: string;
  regions: { region: string; desiredReplicas: number; desiredStatus: "running" | "stopped" }[];
}

/**
 * The preconditions of a stop or start, in order: a known state (invalid_argument); the deployment
 * exists (not_found) and belongs to the object's project (invalid_argument); it is ready
 * (failed_precondition: a deploy in progress is cancelled, not stopped); a stop of a deployment that
 * still holds its environment's or the live domain is refused (failed_precondition: roll back or
 * promote another one first).
 */
export async function checkDesiredState(db: Db, projectId: string, req: DesiredStateRequest): Promise<Checked<DesiredStatePlan>> {
  if (req?.desiredStatus !== "running" && req?.desiredStatus !== "stopped")
    return reject("invalid_argument", "desiredStatus must be running or stopped");
  const deployment = await loadDeployment(db, req.deploymentId);
  if (!deployment) return reject("not_found", `deployment ${req.deploymentId} not found`);
  if (deployment.project_id !== projectId)
    return reject("invalid_argument", `deployment ${deployment.id} does not belong to project ${projectId}`);
  if (deployment.status !== "ready")
    return reject(
      "failed_precondition",
      `deployment ${deployment.id} is ${deployment.status}: only a ready deployment can be stopped or started${["failed", "cancelled"].includes(deployment.status) ? "" : " (cancel a running deploy instead)"}`,
    );
  if (req.desiredStatus === "stopped") {
    const serving = await listRoutesOfDeployment(db, deployment.id, ["live", "environment"]);
    if (serving.length > 0)
      return reject(
        "failed_precondition",
        `deployment ${deployment.id} serves ${serving
          .map((r) => r.fully_qualified_domain_name)
          .sort()
          .join(", ")}: roll back or promote another deployment before stopping it`,
      );
  }
  const topology = await listDeploymentTopology(db, deployment.id);
  return {
    ok: true,
    plan: {
      workspaceId: deployment.workspace_id,
      regions: topology.map((t) => ({ region: t.region, desiredReplicas: t.desired_replicas, desiredStatus: t.desired_status })),
    },
  };
}

/**
 * `DeploymentService.setDesiredState` (key = project): stops (standby: no instances, rows and
 * routes kept, so it can start again) or starts a ready deployment in every region it was placed in,
 * each through that region's VersioningService so agents see it in version order. Exclusive on the
 * project, so it never interleaves with a rollback or promote of the same project. Idempotent.
 */
export async function setDesiredState(ctx: restate.ObjectContext, db: Db, req: DesiredStateRequest): Promise<DesiredStateResult> {
  const checked = await ctx.run("check desired state", () => checkDesiredState(db, ctx.key, req));
  if (!checked.ok) throw terminal(checked.code, checked.message);
  const changed: string[] = [];
  for (const row of checked.plan.regions) {
    if (row.desiredStatus === req.desiredStatus) continue;
    await ctx.objectClient<VersioningServiceApi>({ name: versioningServiceName }, row.region).commitTopology({
      workspaceId: checked.plan.workspaceId,
      deploymentId: req.deploymentId,
      desiredReplicas: row.desiredReplicas,
      desiredStatus: req.desiredStatus,
    });
    changed.push(row.region);
  }
  ctx.console.info({ deploymentId: req.deploymentId, desiredStatus: req.desiredStatus, changed }, "deployment desired state set");
  return {
    deploymentId: req.deploymentId,
    desiredStatus: req.desiredStatus,
    regions: checked.plan.regions.map((r) => r.region).sort(),
    changedRegions: changed.sort(),
  };
}
