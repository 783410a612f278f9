import {
  endEnvironmentRollouts,
  findDeploymentRollout,
  findServingDeployment,
  listRoutesOfDeployment,
  listSplitsOfCanary,
  type Db,
} from "@ctrl/db";
import { isTerminalRollout, type RolloutState } from "@ctrl/rollout";
import type * as restate from "@restatedev/restate-sdk";
import { isProductionEnvironment } from "../../domains.js";
import type { RollbackRequest } from "./api.js";
import { loadDeployment, reject, type Checked } from "./load.js";

/** A rollback whose source is the canary of a rollout (it takes traffic through splits, not routes). */
export interface RolloutRollbackPlan {
  environmentId: string;
  /** Routes to repoint to the target (the ones the environment's serving deployment holds), if any. */
  routeIds: string[];
  /** Production: the live pointer and the pin move too (as a plain rollback does). */
  switchLive: boolean;
}

/**
 * An emergency rollback always wins over a running rollout: when the source deployment is being
 * rolled out (an unfinished rollout, or splits sending traffic to it), the rollback is allowed even
 * though the source is not live yet. Returns null when the source is not a canary (the plain
 * rollback rules apply), else the plan or the precondition it breaks.
 */
export async function checkRolloutRollback(db: Db, projectId: string, req: RollbackRequest): Promise<Checked<RolloutRollbackPlan> | null> {
  if (!req?.sourceDeploymentId || !req.targetDeploymentId || req.sourceDeploymentId === req.targetDeploymentId) return null;
  const [rollout, splits] = await Promise.all([
    findDeploymentRollout(db, req.sourceDeploymentId),
    listSplitsOfCanary(db, req.sourceDeploymentId),
  ]);
  const running =
    rollout !== undefined &&
    !isTerminalRollout(rollout.state as RolloutState) &&
    rollout.strategy !== "blue_green" &&
    rollout.previous_deployment_id !== null;
  if (!running && splits.length === 0) return null;
  const [source, target] = await Promise.all([loadDeployment(db, req.sourceDeploymentId), loadDeployment(db, req.targetDeploymentId)]);
  if (!source) return reject("not_found", `source deployment ${req.sourceDeploymentId} not found`);
  if (!target) return reject("not_found", `target deployment ${req.targetDeploymentId} not found`);
  if (source.project_id !== projectId)
    return reject("invalid_argument", `source deployment ${source.id} does not belong to project ${projectId}`);
  if (target.project_id !== source.project_id || target.environment_id !== source.environment_id)
    return reject("invalid_argument", `target deployment ${target.id} belongs to another project or environment than the source`);
  if (target.status !== "ready") return reject("failed_precondition", `target deployment ${target.id} is ${target.status}, not ready`);
  const environment = await db.selectFrom("environments").select("slug").where("id", "=", source.environment_id).executeTakeFirst();
  const holder = await findServingDeployment(db, source.environment_id);
  const routes = holder ? await listRoutesOfDeployment(db, holder, ["live", "environment"]) : [];
  return {
    ok: true,
    plan: {
      environmentId: source.environment_id,
      routeIds: routes.map((r) => r.id),
      switchLive: environment !== undefined && isProductionEnvironment(environment.slug),
    },
  };
}

/**
 * Ends every unfinished rollout of the environment (state `rolled_back`) and removes its splits, so
 * each region serves what the routes say; the running workflows see it at their next step and stop
 * without touching routes. Returns the deployments whose rollout it ended.
 */
export async function endRollouts(ctx: restate.ObjectContext, db: Db, environmentId: string, req: RollbackRequest): Promise<string[]> {
  const now = await ctx.date.now();
  return ctx.run("end running rollouts", () =>
    endEnvironmentRollouts(
      db,
      environmentId,
      {
        target: "*",
        kind: "cancelled",
        message: `emergency rollback from ${req.sourceDeploymentId} to ${req.targetDeploymentId}`,
        observed: {},
      },
      now,
    ),
  );
}
