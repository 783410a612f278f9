import { artifactRefProblem, ArtifactError, ExtractError, parseArtifactRef } from "@ctrl/artifact";
import type { LocalArtifact } from "../artifacts.js";
import type { ReconcileContext, ReconcilePass } from "./context.js";

/**
 * The workload's artifact, pulled once per spec: undefined when it cannot run (its variables are
 * unusable, its reference or archive is bad — permanent until the spec changes — or the download
 * failed, which is retried with backoff). Every outcome is recorded in `state.pull` and announced.
 */
export async function ensureArtifact(ctx: ReconcileContext, { state, spec, log }: ReconcilePass): Promise<LocalArtifact | undefined> {
  if (spec.envError) {
    state.pull = { permanent: true, reason: spec.envError };
    ctx.emit(spec.kind, spec.name);
    return undefined;
  }
  if (state.artifact) return state.artifact;
  if (state.pull?.permanent) return undefined;
  const ref = parseArtifactRef(spec.image);
  if (!ref) {
    state.pull = { permanent: true, reason: `image_pull_failed: ${artifactRefProblem(spec.image)}` };
    log.warn({ image: spec.image, reason: state.pull.reason }, "image cannot run on the process driver");
    ctx.emit(spec.kind, spec.name);
    return undefined;
  }
  try {
    state.artifact = await ctx.cache.ensure(ref);
    state.pull = undefined;
    const timings = ctx.cache.timings.get(ref.sha256);
    if (timings && !ctx.loggedPulls.has(ref.sha256)) {
      ctx.loggedPulls.add(ref.sha256);
      log.info(
        { sha256: ref.sha256, downloadMs: Math.round(timings.downloadMs), unpackMs: Math.round(timings.unpackMs) },
        "artifact pulled",
      );
    }
    return state.artifact;
  } catch (err) {
    state.pullAttempts++;
    if (err instanceof ArtifactError || err instanceof ExtractError) {
      const code = err instanceof ArtifactError && err.code === "invalid_manifest" ? "invalid_manifest" : "image_pull_failed";
      state.pull = { permanent: true, reason: `${code}: ${err.message}` };
      log.warn({ image: spec.image, reason: state.pull.reason }, "artifact rejected");
    } else {
      state.pull = { permanent: false, reason: `pulling image (attempt ${state.pullAttempts}): ${(err as Error).message}` };
      log.warn({ err, image: spec.image }, "artifact download failed; will retry");
      ctx.retryLater(state);
    }
    ctx.emit(spec.kind, spec.name);
    return undefined;
  }
}
