import { findProjectPointer, listRoutesOfDeployment, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { terminal } from "../../errors.js";
import { routingServiceName, type RoutingServiceApi } from "../routing-service/api.js";
import type { RollbackRequest, SwitchResult } from "./api.js";
import { loadDeployment, reject, type Checked } from "./load.js";
import { checkRolloutRollback, endRollouts } from "./rollout-takeover.js";

interface RollbackPlan {
  routeIds: string[];
  environmentId: string;
}

/**
 * Every rollback precondition (docs/wire.md), checked in this order, each with its own code:
 * source ≠ target (invalid_argument); both exist (not_found); both belong to the object's project
 * and to the same environment (invalid_argument: the request names incompatible deployments);
 * the source is live (failed_precondition); it holds sticky live/environment routes
 * (failed_precondition); the target is ready (failed_precondition).
 */
export async function checkRollback(db: Db, projectId: string, req: RollbackRequest): Promise<Checked<RollbackPlan>> {
  if (!req?.sourceDeploymentId || !req.targetDeploymentId)
    return reject("invalid_argument", "sourceDeploymentId and targetDeploymentId are required");
  if (req.sourceDeploymentId === req.targetDeploymentId) return reject("invalid_argument", "source and target deployment must differ");
  const [source, target, project] = await Promise.all([
    loadDeployment(db, req.sourceDeploymentId),
    loadDeployment(db, req.targetDeploymentId),
    findProjectPointer(db, projectId),
  ]);
  if (!source) return reject("not_found", `source deployment ${req.sourceDeploymentId} not found`);
  if (!target) return reject("not_found", `target deployment ${req.targetDeploymentId} not found`);
  if (!project) return reject("not_found", `project ${projectId} not found`);
  if (source.project_id !== projectId)
    return reject("invalid_argument", `source deployment ${source.id} does not belong to project ${projectId}`);
  if (target.project_id !== source.project_id)
    return reject("invalid_argument", `target deployment ${target.id} belongs to another project than the source`);
  if (target.environment_id !== source.environment_id)
    return reject("invalid_argument", `target deployment ${target.id} belongs to another environment than the source`);
  if (project.liveDeploymentId !== source.id) {
    return reject(
      "failed_precondition",
      `source deployment ${source.id} is not the live deployment of project ${projectId} (live: ${project.liveDeploymentId ?? "none"})`,
    );
  }
  const routes = await listRoutesOfDeployment(db, source.id, ["live", "environment"]);
  if (routes.length === 0) return reject("failed_precondition", `source deployment ${source.id} has no live or environment routes to move`);
  if (target.status !== "ready") return reject("failed_precondition", `target deployment ${target.id} is ${target.status}, not ready`);
  return { ok: true, plan: { routeIds: routes.map((r) => r.id), environmentId: source.environment_id } };
}

/**
 * `DeploymentService.rollback` (key = project): repoints the source's sticky live/environment
 * routes and the live pointer to the target and pins the project (`is_rolled_back`), so later
 * deploys leave those routes alone until a promote.
 */
export async function rollback(ctx: restate.ObjectContext, db: Db, req: RollbackRequest): Promise<SwitchResult> {
  const takeover = await rollbackRollout(ctx, db, req);
  if (takeover) return takeover;
  const checked = await ctx.run("check rollback", () => checkRollback(db, ctx.key, req));
  if (!checked.ok) throw terminal(checked.code, checked.message);
  const result = await ctx
    .objectClient<RoutingServiceApi>({ name: routingServiceName }, ctx.key)
    .switchLive({ targetDeploymentId: req.targetDeploymentId, routeIds: checked.plan.routeIds, isRolledBack: true });
  await endRollouts(ctx, db, checked.plan.environmentId, req);
  ctx.console.info(
    { projectId: ctx.key, source: req.sourceDeploymentId, target: req.targetDeploymentId, hostnames: result.hostnames },
    "rolled back",
  );
  return {
    projectId: ctx.key,
    liveDeploymentId: result.liveDeploymentId,
    isRolledBack: result.isRolledBack,
    repointedHostnames: result.hostnames,
  };
}

/**
 * The rollback of a deployment that is being rolled out (issue 13): its rollouts end and its splits
 * go first (every region back on the routes' deployment at once), then, in production, the routes,
 * the live pointer and the pin move to the target as in a plain rollback. Undefined when the source
 * is not being rolled out.
 */
async function rollbackRollout(ctx: restate.ObjectContext, db: Db, req: RollbackRequest): Promise<SwitchResult | undefined> {
  const checked = await ctx.run("check rollout rollback", () => checkRolloutRollback(db, ctx.key, req));
  if (checked === null) return undefined;
  if (!checked.ok) throw terminal(checked.code, checked.message);
  const ended = await endRollouts(ctx, db, checked.plan.environmentId, req);
  const result = checked.plan.switchLive
    ? await ctx
        .objectClient<RoutingServiceApi>({ name: routingServiceName }, ctx.key)
        .switchLive({ targetDeploymentId: req.targetDeploymentId, routeIds: checked.plan.routeIds, isRolledBack: true })
    : undefined;
  ctx.console.info({ projectId: ctx.key, source: req.sourceDeploymentId, target: req.targetDeploymentId, ended }, "rolled back a rollout");
  const pointer =
    result ??
    (await ctx.run("read project pointer", async () => {
      const p = await findProjectPointer(db, ctx.key);
      return { hostnames: [] as string[], liveDeploymentId: p?.liveDeploymentId ?? null, isRolledBack: p?.isRolledBack ?? false };
    }));
  return {
    projectId: ctx.key,
    liveDeploymentId: pointer.liveDeploymentId,
    isRolledBack: pointer.isRolledBack,
    repointedHostnames: pointer.hostnames,
  };
}
