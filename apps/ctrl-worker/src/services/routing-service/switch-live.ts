import { repointRoutes, setProjectLive, type Db } from "@ctrl/db";
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
      const routes = req.routeIds.length
        ? await trx
            .selectFrom("frontline_routes")
            .select("fully_qualified_domain_name")
            .where("id", "in", req.routeIds)
            .where("deployment_id", "=", req.targetDeploymentId)
            .execute()
        : [];
      return { hostnames: routes.map((r) => r.fully_qualified_domain_name).sort(), ...(await readProjectPointer(trx, projectId)) };
    }),
  );
}
