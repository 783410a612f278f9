import { listDeploymentTopology, type Db } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import { versioningServiceName, type VersioningServiceApi } from "../versioning-service/api.js";

/**
 * Once the supervisor acted (replaced or rolled back), the halted deployment's topology goes to
 * `stopped` in every region (a new version each, through the region's VersioningService): the agents
 * tear its instances down, which ends a stay-alive instance before its grace window. Its rows,
 * steps and halt record stay.
 */
export async function stopHaltedDeployment(ctx: restate.ObjectContext, db: Db, deploymentId: string): Promise<number> {
  const rows = await ctx.run("list halted topology", async () =>
    (await listDeploymentTopology(db, deploymentId))
      .filter((t) => t.desired_status !== "stopped")
      .map((t) => ({ region: t.region, workspaceId: t.workspace_id, desiredReplicas: t.desired_replicas })),
  );
  await restate.RestatePromise.all(
    rows.map((t) =>
      ctx.objectClient<VersioningServiceApi>({ name: versioningServiceName }, t.region).commitTopology({
        workspaceId: t.workspaceId,
        deploymentId,
        desiredReplicas: t.desiredReplicas,
        desiredStatus: "stopped",
      }),
    ),
  );
  return rows.length;
}
