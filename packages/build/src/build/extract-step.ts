import { ExtractError, safeExtract } from "@ctrl/artifact";
import { BuildError } from "../errors.js";
import type { ContextLimits } from "../limits.js";
import { buildSteps } from "../steps.js";
import type { BuildSession } from "./session.js";

/** Step `extract`: unpacks the context into the app directory within the context limits. */
export async function extractStep(b: BuildSession, contextFile: string): Promise<void> {
  await b.open(buildSteps.extract, "unpacking the context");
  const extracted = await extract(contextFile, b.dirs.app, b.config.limits, b.job.contextKey);
  await b.reporter.step(buildSteps.extract, "completed", `unpacked ${extracted.files} entries, ${extracted.bytes} bytes`);
}

async function extract(file: string, dest: string, limits: ContextLimits, key: string): Promise<{ files: number; bytes: number }> {
  try {
    return await safeExtract(file, dest, limits);
  } catch (err) {
    if (err instanceof ExtractError) {
      const hint =
        err.code.endsWith("too_large") || err.code === "too_many_files"
          ? " (raise BUILD_MAX_* on the worker or shrink the context with .ctrlignore)"
          : "";
      throw new BuildError(buildSteps.extract, "build_context_invalid", `build context ${key} rejected: ${err.message}${hint}`);
    }
    throw err;
  }
}
