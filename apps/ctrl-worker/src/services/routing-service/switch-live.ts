import { listHostnamesOfRoutes, repointRoutes, setProjectLive, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import type { RoutingResult, SwitchLiveRequest } from "./api.js";
import { requireDeploymentOfProject } from "./ownership.js";
import { readProjectPointer } from "./project-pointer.js";

/**
 * `RoutingService.switchLive` (key = project): repoints the given routes, the live pointer and the
 * rolled-back pin in one MySQL transaction, so frontline never sees routes and pointer disagree.
 * The target must belong to the keyed project (not_found / permission_denied otherwise): the live
 * pointer never names another project's deployment. Route ids of other projects are ignored.
 */
export async function switchLive(ctx: restate.ObjectContext, db: Db, req: SwitchLiveRequest): Promise<RoutingResult> {
  const projectId = ctx.key;
  const now = await ctx.date.now();
  return ctx.run("switch live", () =>
    db.transaction().execute(async (trx) => {
      await requireDeploymentOfProject(trx, projectId, req?.targetDeploymentId, "targetDeploymentId");
      await repointRoutes(trx, projectId, req.routeIds, req.targetDeploymentId, now);
      await setProjectLive(trx, projectId, { liveDeploymentId: req.targetDeploymentId, isRolledBack: req.isRolledBack }, now);
      const hostnames = await listHostnamesOfRoutes(trx, req.routeIds, req.targetDeploymentId);
      return { hostnames, ...(await readProjectPointer(trx, projectId)) };
    }),
  );
}
