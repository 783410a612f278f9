import { base58, findSentinelOfEnvironment, type Db } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import { createHash } from "node:crypto";
import { isProductionEnvironment } from "../../domains.js";
import type { WorkerSettings } from "../../settings.js";
import type { StepOutcome } from "../../steps.js";
import { versioningServiceName, type VersioningServiceApi } from "../versioning-service/api.js";
import type { DeployRun } from "./deploy-run.js";
import type { DeployMeta } from "./metadata.js";

/** Resources of a sentinel replica (the proxy is small). */
export const sentinelCpuMillicores = 250;
export const sentinelMemoryMib = 256;

/**
 * The id and k8s name of an environment's sentinel in a region, derived from both: two deploys of
 * one environment racing to create it compute the same id, and the second commit is a no-op.
 */
export function sentinelIdentity(environmentId: string, region: string): { sentinelId: string; k8sName: string } {
  const digest = createHash("sha256").update(`${environmentId}/${region}`).digest();
  return { sentinelId: `se_${base58(digest.subarray(0, 16))}`, k8sName: `sentinel-${digest.subarray(0, 8).toString("hex")}` };
}

/** Desired sentinel replicas: 3 for production, 1 otherwise. */
export function sentinelReplicas(environmentSlug: string): number {
  return isProductionEnvironment(environmentSlug) ? 3 : 1;
}

/**
 * Ensures the environment has a sentinel row in every region, versioned through
 * `VersioningService.commitSentinel`. Existing sentinels are left alone (their image is the
 * rollout service's business). Skipped when no sentinel image is configured.
 */
export async function ensureSentinels(
  ctx: restate.WorkflowContext,
  db: Db,
  settings: WorkerSettings,
  env: { workspaceId: string; projectId: string; environmentId: string; environmentSlug: string },
  regions: string[],
): Promise<StepOutcome<void>> {
  const image = settings.sentinelImage;
  if (!image)
    return { value: undefined, status: "skipped", message: "no sentinel image configured (SENTINEL_IMAGE); sentinel not ensured" };
  const missing = await ctx.run("find missing sentinels", async () => {
    const out: string[] = [];
    for (const region of regions) if (!(await findSentinelOfEnvironment(db, env.environmentId, region))) out.push(region);
    return out;
  });
  await restate.RestatePromise.all(
    missing.map((region) => {
      const { sentinelId, k8sName } = sentinelIdentity(env.environmentId, region);
      return ctx.objectClient<VersioningServiceApi>({ name: versioningServiceName }, region).commitSentinel({
        sentinelId,
        image,
        desiredReplicas: sentinelReplicas(env.environmentSlug),
        desiredState: "running",
        create: {
          workspaceId: env.workspaceId,
          projectId: env.projectId,
          environmentId: env.environmentId,
          k8sName,
          cpuMillicores: sentinelCpuMillicores,
          memoryMib: sentinelMemoryMib,
        },
      });
    }),
  );
  const message = missing.length ? `sentinel created in ${missing.join(", ")}` : `sentinel present in ${regions.join(", ")}`;
  return { value: undefined, message };
}

/** Step `sentinel`: {@link ensureSentinels} for the deploy's environment in its regions. */
export async function sentinelStep(run: DeployRun, meta: DeployMeta, regions: string[]): Promise<void> {
  await run.steps.step("sentinel", "ensuring the environment's sentinel", () =>
    ensureSentinels(
      run.ctx,
      run.db,
      run.settings,
      {
        workspaceId: meta.workspaceId,
        projectId: meta.projectId,
        environmentId: meta.environmentId,
        environmentSlug: meta.environmentSlug,
      },
      regions,
    ),
  );
}
