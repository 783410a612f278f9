import type { Db } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import { cancelPromiseName, type CancelRequest } from "../../steps.js";
import type { CancelDeployRequest, DeployResult } from "./api.js";
import { deployStatus } from "./status.js";

/**
 * Shared handler `DeployWorkflow.cancel`: resolves the workflow's durable `cancel` promise. The
 * run sees it at its next step boundary (or readiness round), stops its topology and ends
 * `cancelled`. A deploy past its cutover is not affected. Idempotent; returns the current status.
 */
export async function cancelDeploy(
  ctx: restate.WorkflowSharedContext,
  db: Db,
  req: CancelDeployRequest | undefined,
): Promise<DeployResult> {
  const promise = ctx.promise<CancelRequest>(cancelPromiseName);
  if ((await promise.peek()) === undefined) {
    const requestedAt = await ctx.date.now();
    try {
      await promise.resolve({ requestedAt, ...(req?.reason ? { reason: req.reason.slice(0, 500) } : {}) });
    } catch (err) {
      // A concurrent cancel resolved it first: that is the same outcome.
      if (!(err instanceof restate.TerminalError)) throw err;
    }
  }
  return deployStatus(ctx, db);
}
