import { findDeploymentById, type DeploymentHalt } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import { deploymentServiceName, type DeploymentServiceApi } from "../deployment-service/api.js";
import type { HaltOutcome } from "./api.js";
import { outcomeOf, resolveOnce, type SupervisorDeps } from "./outcome.js";
import { decide, previousReadyDeployment } from "./record.js";
import { stopHaltedDeployment } from "./stop-halted.js";

/**
 * The 71 branch (binary too new): rolls the environment back to the deployment that ran before
 * (`DeploymentService.rollback`, which pins the project: later deploys do not take its routes until
 * a promote — no automatic advance), then stops the halted deployment's topology. Without an earlier ready deployment, or when the rollback's
 * preconditions fail (e.g. the halted deployment is not live), the halt waits for a human.
 */
export async function rollbackHalted(ctx: restate.ObjectContext, deps: SupervisorDeps, halt: DeploymentHalt): Promise<HaltOutcome> {
  const { db } = deps;
  const now = await ctx.date.now();
  const target = await ctx.run("find previous deployment", async () => {
    const halted = await findDeploymentById(db, ctx.key);
    return (halted && (await previousReadyDeployment(db, halted))) ?? null;
  });
  const waitForHuman = async (message: string) =>
    outcomeOf(
      await ctx.run("rollback impossible", () =>
        decide(db, ctx.key, halt.reason, { state: "waiting_for_human", condition: "rollback_failed", message, step: "failed" }, now),
      ),
    );
  if (!target) return waitForHuman("no earlier ready deployment to roll back to; a person must decide");
  try {
    await ctx
      .objectClient<DeploymentServiceApi>({ name: deploymentServiceName }, halt.project_id)
      .rollback({ sourceDeploymentId: ctx.key, targetDeploymentId: target });
  } catch (err) {
    if (!(err instanceof restate.TerminalError)) throw err;
    return waitForHuman(`rollback to ${target} refused: ${err.message}`);
  }
  await stopHaltedDeployment(ctx, db, ctx.key);
  const done = await ctx.date.now();
  const halted = await ctx.run("mark rolled back", () =>
    decide(
      db,
      ctx.key,
      halt.reason,
      { state: "halted", condition: null, replacedBy: target, message: `rolled back to ${target}; project pinned`, step: "completed" },
      done,
    ),
  );
  ctx.console.info({ deploymentId: ctx.key, target }, "rolled back a binary that is too new");
  await resolveOnce(ctx, deps, halted);
  return outcomeOf(halted);
}
