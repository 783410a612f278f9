import { setProjectLive, upsertRoutes, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import type { AssignRoutesRequest, RoutingResult } from "./api.js";
import { readProjectPointer } from "./project-pointer.js";

/**
 * `RoutingService.assignRoutes` (key = project): upserts the routes and, when asked, moves the
 * live pointer, in one MySQL transaction inside one named step.
 */
export async function assignRoutes(ctx: restate.ObjectContext, db: Db, req: AssignRoutesRequest): Promise<RoutingResult> {
  const projectId = ctx.key;
  const now = await ctx.date.now();
  return ctx.run("assign routes", () =>
    db.transaction().execute(async (trx) => {
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
