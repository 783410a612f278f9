import { setProjectLive, upsertRoutes, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import type { AssignRoutesRequest, RoutingResult } from "./api.js";
import { terminal } from "../../errors.js";
import { requireDeploymentOfProject } from "./ownership.js";
import { readProjectPointer } from "./project-pointer.js";

/**
 * `RoutingService.assignRoutes` (key = project): upserts the routes and, when asked, moves the
 * live pointer, in one MySQL transaction inside one named step. The deployment must belong to the
 * keyed project and the workspace/environment of the request must be its own (permission_denied /
 * invalid_argument otherwise); hostnames another project holds are left alone (upsertRoutes).
 */
export async function assignRoutes(ctx: restate.ObjectContext, db: Db, req: AssignRoutesRequest): Promise<RoutingResult> {
  const projectId = ctx.key;
  const now = await ctx.date.now();
  return ctx.run("assign routes", () =>
    db.transaction().execute(async (trx) => {
      const deployment = await requireDeploymentOfProject(trx, projectId, req?.deploymentId, "deploymentId");
      if (req.workspaceId !== deployment.workspaceId || req.environmentId !== deployment.environmentId) {
        throw terminal(
          "invalid_argument",
          `workspaceId and environmentId must be those of deployment ${deployment.id} (${deployment.workspaceId}, ${deployment.environmentId})`,
        );
      }
      const hostnames = await upsertRoutes(trx, {
        workspaceId: req.workspaceId,
        projectId,
        environmentId: req.environmentId,
        deploymentId: req.deploymentId,
        routes: req.routes,
        now,
      });
      if (req.setLive) await setProjectLive(trx, projectId, { liveDeploymentId: req.deploymentId }, now);
      return { hostnames, ...(await readProjectPointer(trx, projectId)) };
    }),
  );
}
