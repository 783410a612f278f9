import { findDeploymentById, findProjectPointer, listRoutesOfDeployment, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { terminal } from "../../errors.js";
import { routingServiceName, type RoutingServiceApi } from "../routing-service/api.js";
import type { PromoteRequest, SwitchResult } from "./api.js";
import { loadDeployment, reject, type Checked } from "./load.js";

interface PromotePlan {
  routeIds: string[];
}

/**
 * Every promote precondition (docs/wire.md), in this order: the target exists (not_found) and belongs
 * to the object's project (invalid_argument); it is ready (failed_precondition); the project has a
 * live deployment (failed_precondition) that is not the target (failed_precondition) and is in
 * the target's environment (invalid_argument); the live deployment holds sticky live/environment
 * routes (failed_precondition).
 */
export async function checkPromote(db: Db, projectId: string, req: PromoteRequest): Promise<Checked<PromotePlan>> {
  if (!req?.targetDeploymentId) return reject("invalid_argument", "targetDeploymentId is required");
  const [target, project] = await Promise.all([loadDeployment(db, req.targetDeploymentId), findProjectPointer(db, projectId)]);
  if (!target) return reject("not_found", `target deployment ${req.targetDeploymentId} not found`);
  if (!project) return reject("not_found", `project ${projectId} not found`);
  if (target.project_id !== projectId)
    return reject("invalid_argument", `target deployment ${target.id} does not belong to project ${projectId}`);
  if (target.status !== "ready") return reject("failed_precondition", `target deployment ${target.id} is ${target.status}, not ready`);
  if (!project.liveDeploymentId) return reject("failed_precondition", `project ${projectId} has no live deployment to promote over`);
  if (project.liveDeploymentId === target.id) return reject("failed_precondition", `deployment ${target.id} is already live`);
  const live = await findDeploymentById(db, project.liveDeploymentId);
  if (live && live.environment_id !== target.environment_id) {
    return reject("invalid_argument", `target deployment ${target.id} belongs to another environment than the live deployment ${live.id}`);
  }
  const routes = await listRoutesOfDeployment(db, project.liveDeploymentId, ["live", "environment"]);
  if (routes.length === 0)
    return reject("failed_precondition", `live deployment ${project.liveDeploymentId} has no live or environment routes to move`);
  return { ok: true, plan: { routeIds: routes.map((r) => r.id) } };
}

/**
 * `DeploymentService.promote` (key = project): repoints the live deployment's sticky
 * live/environment routes and the live pointer to the target, and clears the rolled-back pin.
 */
export async function promote(ctx: restate.ObjectContext, db: Db, req: PromoteRequest): Promise<SwitchResult> {
  const checked = await ctx.run("check promote", () => checkPromote(db, ctx.key, req));
  if (!checked.ok) throw terminal(checked.code, checked.message);
  const result = await ctx
    .objectClient<RoutingServiceApi>({ name: routingServiceName }, ctx.key)
    .switchLive({ targetDeploymentId: req.targetDeploymentId, routeIds: checked.plan.routeIds, isRolledBack: false });
  ctx.console.info({ projectId: ctx.key, target: req.targetDeploymentId, hostnames: result.hostnames }, "promoted");
  return {
    projectId: ctx.key,
    liveDeploymentId: result.liveDeploymentId,
    isRolledBack: result.isRolledBack,
    repointedHostnames: result.hostnames,
  };
}
