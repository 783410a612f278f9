import { advanceRollout, clearRegionSplits, findDeploymentRollout, listDeploymentTopology, listSplitsOfCanary, type Db } from "@ctrl/db";
import { isTerminalRollout, type FailureDetail, type RolloutState, type RolloutTarget } from "@ctrl/rollout";
import * as restate from "@restatedev/restate-sdk";
import { DeployCancelled } from "../../../steps.js";
import { versioningServiceName, type VersioningServiceApi } from "../../versioning-service/api.js";

/** Removes the splits whose canary is this deployment (another deployment's never). */
export async function clearOwnSplits(db: Db, environmentId: string, deploymentId: string): Promise<number> {
  const regions = (await listSplitsOfCanary(db, deploymentId)).map((s) => s.region);
  return clearRegionSplits(db, environmentId, regions);
}

/** Stops `deploymentId`'s instances `delayMs` from now, through a delayed send per region. */
export async function scaleDownLater(ctx: restate.WorkflowContext, db: Db, deploymentId: string, delayMs: number): Promise<void> {
  const rows = await ctx.run("rollout previous topology", async () =>
    (await listDeploymentTopology(db, deploymentId))
      .filter((t) => t.desired_status === "running")
      .map((t) => ({ region: t.region, workspaceId: t.workspace_id, desiredReplicas: t.desired_replicas })),
  );
  for (const row of rows) {
    ctx
      .objectSendClient<VersioningServiceApi>({ name: versioningServiceName }, row.region)
      .commitTopology(
        { workspaceId: row.workspaceId, deploymentId, desiredReplicas: row.desiredReplicas, desiredStatus: "stopped" },
        restate.rpc.sendOpts({ delay: delayMs }),
      );
  }
}

/**
 * From the deploy's failure path (run.ts `catch`): a rollout row still unfinished when the deploy
 * fails or is cancelled outside the rollout's own decisions (the switch rejected, a cancel of the
 * workflow) ends `rolled_back` (the previous deployment serves; splits removed) or `failed`.
 */
export async function settleRollout(ctx: restate.WorkflowContext, db: Db, deploymentId: string, err: unknown): Promise<void> {
  if (!(err instanceof restate.TerminalError || err instanceof DeployCancelled)) return;
  const now = await ctx.date.now();
  await ctx.run("rollout settle", async () => {
    const row = await findDeploymentRollout(db, deploymentId);
    if (!row || isTerminalRollout(row.state as RolloutState)) return;
    await clearOwnSplits(db, row.environment_id, deploymentId);
    // The deployment row carries the reason of a failure outside the rollout's decisions; only a cancel
    // is a rollout failure kind of its own.
    const details = [...(JSON.parse(row.failure_details) as FailureDetail[])];
    if (err instanceof DeployCancelled || err instanceof restate.CancelledError) {
      details.push({ target: "*", kind: "cancelled", message: "the deploy was cancelled", observed: {} });
    }
    const targets = (JSON.parse(row.targets) as RolloutTarget[]).map((t) =>
      t.state === "cut_over" || t.state === "cutting_over" ? { ...t, state: "rolled_back" as const, weight: 0 } : t,
    );
    await advanceRollout(
      db,
      deploymentId,
      {
        state: row.previous_deployment_id ? "rolled_back" : "failed",
        targets: JSON.stringify(targets),
        failure_details: JSON.stringify(details),
        finished_at: now,
      },
      now,
    );
  });
}
