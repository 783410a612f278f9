import { completeBuild, setDeploymentBuild } from "@ctrl/db";
import type { BuildDeps, BuildJob } from "./session.js";

/** Records a successful build: the `builds` row and the deployment's `image`/`build_id`. */
export async function finishBuild(
  deps: BuildDeps,
  job: BuildJob,
  image: string,
  sha256: string | null,
  cachedFrom: string | null,
): Promise<void> {
  const now = Date.now();
  await completeBuild(deps.db, job.buildId, { image, artifactSha256: sha256, cachedFromBuildId: cachedFrom, now });
  await setDeploymentBuild(deps.db, job.deploymentId, { buildId: job.buildId, image, now });
}
