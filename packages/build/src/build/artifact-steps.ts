import { formatArtifactRef, packDirectory, uploadArtifact } from "@ctrl/artifact";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "../errors.js";
import { findEscapingSymlink } from "../links.js";
import type { BuildPlan } from "../plan.js";
import { buildSteps } from "../steps.js";
import { finishBuild } from "./finish.js";
import type { BuildOutput, BuildSession } from "./session.js";

/** Step `pack`: writes the run manifest (`ctrl.json`) and packs the app; returns the artifact file. */
export async function packStep(b: BuildSession, plan: BuildPlan): Promise<string> {
  const { dirs } = b;
  await b.open(buildSteps.pack, "packing the artifact");
  // The artifact's manifest says how to run what was built (the build command is done).
  const manifest = {
    start: plan.start,
    ...(plan.port !== undefined ? { port: plan.port } : {}),
    ...(plan.healthPath !== undefined ? { healthPath: plan.healthPath } : {}),
    ...(plan.halt !== undefined ? { halt: plan.halt } : {}),
  };
  await writeFile(join(dirs.app, "ctrl.json"), JSON.stringify(manifest, null, 2) + "\n");
  const escaping = await findEscapingSymlink(dirs.app);
  if (escaping) {
    throw new BuildError(
      buildSteps.pack,
      "build_failed",
      `the build left a symlink ${escaping.path} -> ${escaping.target} pointing outside the app; the agent refuses such an artifact: make it relative and inside the app, or remove it`,
    );
  }
  const artifactFile = join(dirs.root, "artifact.tar.gz");
  const packed = await packDirectory(dirs.app, artifactFile);
  await b.reporter.step(buildSteps.pack, "completed", `${packed.bytes} bytes (sha256 ${packed.sha256.slice(0, 12)})`);
  return artifactFile;
}

/** Step `upload`: the artifact to `<projectId>/artifacts/<buildId>.tar.gz`, recorded as the build's image. */
export async function uploadStep(b: BuildSession, plan: BuildPlan, artifactFile: string): Promise<BuildOutput> {
  const { deps, job } = b;
  await b.open(buildSteps.upload, "uploading the artifact");
  const key = artifactKeyFor(job.projectId, job.buildId);
  const ref = await uploadArtifact(deps.storage, key, artifactFile);
  const image = formatArtifactRef(ref);
  await b.reporter.step(buildSteps.upload, "completed", image);
  await finishBuild(deps, job, image, ref.sha256, null);
  return {
    image,
    sha256: ref.sha256,
    cached: false,
    buildId: job.buildId,
    backend: "local",
    ...(plan.port !== undefined ? { port: plan.port } : {}),
    ...(plan.healthPath !== undefined ? { healthPath: plan.healthPath } : {}),
  };
}

/** Where the local builder's artifact of `buildId` lives: `<projectId>/artifacts/<buildId>.tar.gz`. */
export function artifactKeyFor(projectId: string, buildId: string): string {
  return `${projectId}/artifacts/${buildId}.tar.gz`;
}
