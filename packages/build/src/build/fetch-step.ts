import { parseArtifactRef } from "@ctrl/artifact";
import { findReusableBuild, setBuildContextDigest } from "@ctrl/db";
import { join } from "node:path";
import { fetchContext } from "../fetch-context.js";
import { buildSteps, type BuildStepName } from "../steps.js";
import { finishBuild } from "./finish.js";
import type { BuildDeps, BuildOutput, BuildSession } from "./session.js";

/** Step `fetch`: downloads the context (size-limited) and records its digest on the build row. */
export async function fetchStep(b: BuildSession): Promise<{ file: string; sha256: string }> {
  const { deps, job, reporter } = b;
  await b.open(buildSteps.fetch, `downloading ${job.contextKey}`);
  const context = await fetchContext(deps.storage, job.contextKey, join(b.dirs.root, "context.tar.gz"), b.config.limits.maxCompressedBytes);
  await setBuildContextDigest(deps.db, job.buildId, context.sha256, Date.now());
  await reporter.step(buildSteps.fetch, "completed", `downloaded ${context.bytes} bytes (sha256 ${context.sha256.slice(0, 12)})`);
  return context;
}

/**
 * The output of an earlier build of the same project and context digest whose artifact is still
 * stored (its remaining steps are marked skipped), or undefined when there is none to reuse.
 */
export async function reuseEarlierBuild(b: BuildSession, contextSha256: string): Promise<BuildOutput | undefined> {
  const { deps, config, job, reporter } = b;
  const reusable = await findReusableBuild(deps.db, job.projectId, contextSha256, job.buildId, config.backend);
  if (!reusable?.image) return undefined;
  if (!(await artifactStillStored(deps.storage, reusable.image))) {
    // The row outlived its object (bucket emptied, lifecycle rule, a fresh S3 next to an old
    // database): reusing it would fail every instance with image_pull_failed, so build again.
    reporter.log(buildSteps.fetch, `the artifact of ${reusable.id} (same context digest) is no longer in storage; building again`);
    return undefined;
  }
  const note = `reused the artifact of ${reusable.id} (same context digest)`;
  for (const step of stepsOf(config.backend).slice(1)) await reporter.step(step, "skipped", note);
  reporter.log(buildSteps.fetch, note);
  await finishBuild(deps, job, reusable.image, reusable.artifact_sha256, reusable.id);
  return { image: reusable.image, sha256: reusable.artifact_sha256 ?? "", cached: true, buildId: job.buildId, backend: config.backend };
}

/** The steps a backend goes through, in order. */
export function stepsOf(backend: "local" | "docker"): BuildStepName[] {
  return backend === "docker"
    ? [buildSteps.fetch, buildSteps.extract, buildSteps.docker]
    : [buildSteps.fetch, buildSteps.extract, buildSteps.install, buildSteps.compile, buildSteps.pack, buildSteps.upload];
}

/**
 * Whether a recorded artifact can still be pulled. Only `s3://` artifacts are checked; an image in
 * a registry (docker backend) is assumed present.
 */
async function artifactStillStored(storage: BuildDeps["storage"], image: string): Promise<boolean> {
  const ref = parseArtifactRef(image);
  return ref ? storage.objectExists(ref.key, ref.bucket) : true;
}
