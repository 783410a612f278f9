import { findProjectActivity, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { versioningServiceName, type VersioningServiceApi } from "../versioning-service/api.js";
import type { StopProjectResult } from "./api.js";

/**
 * `DeploymentService.stopProject` (key = project id), for a forced project delete: every topology row
 * of the project still desired `running` is committed `stopped`, and every sentinel of its
 * environments `archived`, each through its region's VersioningService (so agents see new versions).
 * Exclusive on the project, so it never interleaves with a cutover, rollback or promote.
 */
export async function stopProject(ctx: restate.ObjectContext, db: Db): Promise<StopProjectResult> {
  const activity = await ctx.run("read running topology", () => findProjectActivity(db, ctx.key));
  for (const t of activity.runningTopology)
    await ctx.objectClient<VersioningServiceApi>({ name: versioningServiceName }, t.region).commitTopology({
      workspaceId: t.workspaceId,
      deploymentId: t.deploymentId,
      desiredReplicas: t.desiredReplicas,
      desiredStatus: "stopped",
    });
  for (const s of activity.activeSentinels)
    await ctx.objectClient<VersioningServiceApi>({ name: versioningServiceName }, s.region).commitSentinel({
      sentinelId: s.sentinelId,
      desiredState: "archived",
    });
  return {
    stoppedDeploymentIds: [...new Set(activity.runningTopology.map((t) => t.deploymentId))],
    archivedSentinelIds: activity.activeSentinels.map((s) => s.sentinelId),
  };
}
