import { ArtifactError, parseManifest } from "@ctrl/artifact";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { BuildError } from "../errors.js";
import { displayCommand, planBuild, PlanError, type BuildPlan } from "../plan.js";
import { buildSteps } from "../steps.js";

/** Reads `ctrl.json`/`package.json` at the context root and plans the build. */
export async function planContext(appDir: string): Promise<BuildPlan> {
  const rootFiles = new Set(await readdir(appDir));
  const read = (name: string) => (rootFiles.has(name) ? readFile(join(appDir, name), "utf8") : Promise.resolve(undefined));
  const [manifestText, packageJson] = await Promise.all([read("ctrl.json"), read("package.json")]);
  try {
    let manifest: ReturnType<typeof parseManifest> | undefined;
    if (manifestText !== undefined) {
      let value: unknown;
      try {
        value = JSON.parse(manifestText);
      } catch (err) {
        throw new PlanError(`ctrl.json is not valid JSON: ${(err as Error).message}`);
      }
      manifest = parseManifest(value, "ctrl.json");
    }
    return planBuild({ ...(manifest ? { manifest } : {}), ...(packageJson !== undefined ? { packageJson } : {}), rootFiles });
  } catch (err) {
    if (err instanceof PlanError || err instanceof ArtifactError)
      throw new BuildError(buildSteps.extract, "build_context_invalid", err.message);
    throw err;
  }
}

/** One line describing a plan (for the build log). */
export function describePlan(plan: BuildPlan): string {
  const parts = [
    `install: ${plan.install ? displayCommand(plan.install) : "none"}`,
    `build: ${plan.build ? displayCommand(plan.build) : "none"}`,
    `start: ${displayCommand(plan.start)}`,
  ];
  if (plan.port !== undefined) parts.push(`port: ${plan.port}`);
  if (plan.healthPath !== undefined) parts.push(`health: ${plan.healthPath}`);
  return parts.join(", ");
}
