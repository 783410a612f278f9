import { listDeploymentTopology, listRoutesOfDeployment, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { terminal } from "../../errors.js";
import { versioningServiceName, type VersioningServiceApi } from "../versioning-service/api.js";
import type { ArchiveRequest, ArchiveResult } from "./api.js";
import { loadDeployment, reject, type Checked } from "./load.js";

interface ArchivePlan {
  workspaceId: string;
  running: { region: string; desiredReplicas: number }[];
  alreadyArchived: boolean;
}

/**
 * The preconditions of a delete, in order: the deployment exists (not_found) and belongs to the
 * object's project (invalid_argument); its deploy finished (failed_precondition: cancel a running
 * deploy first); it does not serve its environment or the live domain (failed_precondition).
 */
export async function checkArchive(db: Db, projectId: string, req: ArchiveRequest): Promise<Checked<ArchivePlan>> {
  const deployment = await loadDeployment(db, req?.deploymentId);
  if (!deployment) return reject("not_found", `deployment ${req?.deploymentId} not found`);
  if (deployment.project_id !== projectId)
    return reject("invalid_argument", `deployment ${deployment.id} does not belong to project ${projectId}`);
  if (!["ready", "failed", "cancelled"].includes(deployment.status))
    return reject("failed_precondition", `deployment ${deployment.id} is ${deployment.status}: cancel the deploy before deleting it`);
  const serving = await listRoutesOfDeployment(db, deployment.id, ["live", "environment"]);
  if (serving.length > 0)
    return reject(
      "failed_precondition",
      `deployment ${deployment.id} serves ${serving
        .map((r) => r.fully_qualified_domain_name)
        .sort()
        .join(", ")}: roll back or promote another deployment before deleting it`,
    );
  const topology = await listDeploymentTopology(db, deployment.id);
  return {
    ok: true,
    plan: {
      workspaceId: deployment.workspace_id,
      running: topology
        .filter((t) => t.desired_status === "running")
        .map((t) => ({ region: t.region, desiredReplicas: t.desired_replicas })),
      alreadyArchived: deployment.archived_at !== null,
    },
  };
}

/**
 * `DeploymentService.archive` (key = project): deletes a deployment — its instances stop in every
 * region (through each region's VersioningService), its remaining routes (per-commit and per-branch
 * hostnames) are removed, and the row is stamped `archived_at`; rows, steps and the variable
 * snapshot stay for the record. Idempotent.
 */
export async function archive(ctx: restate.ObjectContext, db: Db, req: ArchiveRequest): Promise<ArchiveResult> {
  const checked = await ctx.run("check archive", () => checkArchive(db, ctx.key, req));
  if (!checked.ok) throw terminal(checked.code, checked.message);
  for (const row of checked.plan.running) {
    await ctx.objectClient<VersioningServiceApi>({ name: versioningServiceName }, row.region).commitTopology({
      workspaceId: checked.plan.workspaceId,
      deploymentId: req.deploymentId,
      desiredReplicas: row.desiredReplicas,
      desiredStatus: "stopped",
    });
  }
  const now = await ctx.date.now();
  const removedHostnames = await ctx.run("remove routes and archive", () =>
    db.transaction().execute(async (trx) => {
      const routes = await trx
        .selectFrom("frontline_routes")
        .select("fully_qualified_domain_name")
        .where("deployment_id", "=", req.deploymentId)
        .execute();
      await trx.deleteFrom("frontline_routes").where("deployment_id", "=", req.deploymentId).execute();
      await trx
        .updateTable("deployments")
        .set({ archived_at: now, updated_at: now })
        .where("id", "=", req.deploymentId)
        .where("archived_at", "is", null)
        .execute();
      return routes.map((r) => r.fully_qualified_domain_name).sort();
    }),
  );
  ctx.console.info(
    { deploymentId: req.deploymentId, removedHostnames, stoppedRegions: checked.plan.running.map((r) => r.region) },
    "deployment archived",
  );
  return { deploymentId: req.deploymentId, removedHostnames, stoppedRegions: checked.plan.running.map((r) => r.region).sort() };
}
