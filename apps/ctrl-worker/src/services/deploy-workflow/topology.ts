import { listDeploymentTopology, type Db } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import { DeployFailure } from "../../steps.js";
import { versioningServiceName, type CommitResult, type VersioningServiceApi } from "../versioning-service/api.js";
import type { DeployRun } from "./deploy-run.js";
import type { DeployMeta } from "./metadata.js";

/**
 * The regions of a deploy: the environment's `regions` JSON array when set, else the worker's
 * configured regions. Returns an error message for a malformed override (a terminal problem).
 */
export function resolveRegions(environmentRegions: string | null, defaults: string[]): { regions: string[] } | { error: string } {
  if (environmentRegions === null || environmentRegions.trim() === "") return { regions: [...defaults] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(environmentRegions);
  } catch {
    return { error: `environment regions ${JSON.stringify(environmentRegions)} is not a JSON array` };
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((r) => typeof r === "string" && /^[a-z0-9-]+$/.test(r))) {
    return { error: `environment regions ${JSON.stringify(environmentRegions)} must be a non-empty JSON array of region names` };
  }
  return { regions: [...new Set(parsed as string[])] };
}

/** Commits the deployment's desired state in every region through the region's VersioningService. */
export async function commitTopology(
  ctx: restate.WorkflowContext,
  regions: string[],
  change: { workspaceId: string; deploymentId: string; desiredReplicas: number; desiredStatus: "running" | "stopped" },
): Promise<CommitResult[]> {
  return restate.RestatePromise.all(
    regions.map((region) => ctx.objectClient<VersioningServiceApi>({ name: versioningServiceName }, region).commitTopology(change)),
  );
}

/**
 * Sets every committed topology row of the deployment to `stopped` (a new version each), so the
 * agents tear its instances down. Used when a deploy fails or is cancelled.
 */
export async function stopTopology(ctx: restate.WorkflowContext, db: Db, deploymentId: string): Promise<number> {
  const rows = await ctx.run("list topology to stop", async () =>
    (await listDeploymentTopology(db, deploymentId)).map((t) => ({
      region: t.region,
      workspaceId: t.workspace_id,
      desiredReplicas: t.desired_replicas,
    })),
  );
  await restate.RestatePromise.all(
    rows.map((t) =>
      ctx.objectClient<VersioningServiceApi>({ name: versioningServiceName }, t.region).commitTopology({
        workspaceId: t.workspaceId,
        deploymentId,
        desiredReplicas: t.desiredReplicas,
        desiredStatus: "stopped",
      }),
    ),
  );
  return rows.length;
}

/** The deploy's regions (see {@link resolveRegions}); a malformed override is a terminal `invalid_deployment`. */
export function deployRegions(meta: DeployMeta, defaults: string[]): string[] {
  const regions = resolveRegions(meta.environmentRegions, defaults);
  if ("error" in regions) throw new DeployFailure("invalid_deployment", regions.error);
  return regions.regions;
}

/** Step `topology`: the desired replicas committed as running in every region. */
export async function topologyStep(run: DeployRun, meta: DeployMeta, regions: string[]): Promise<void> {
  await run.steps.step("topology", `committing desired state in ${regions.join(", ")}`, async () => {
    const results = await commitTopology(run.ctx, regions, {
      workspaceId: meta.workspaceId,
      deploymentId: run.deploymentId,
      desiredReplicas: meta.replicas,
      desiredStatus: "running",
    });
    const versions = regions.map((r, i) => `${r}@${results[i]!.version}`).join(", ");
    return { value: undefined, message: `${meta.replicas} replica(s) desired in ${versions}` };
  });
}
