import type { ExtractLimits } from "@ctrl/artifact";

/** Bounds on what a build context may be; each rejection names the limit it hit. */
export type ContextLimits = ExtractLimits;

/**
 * Defaults for uploaded contexts (sources, usually without node_modules): tighter than an
 * artifact's, generous for an app's source. Configurable per worker (BUILD_MAX_* variables).
 */
export const defaultContextLimits: ContextLimits = {
  maxCompressedBytes: 100 * 1024 * 1024,
  maxExtractedBytes: 500 * 1024 * 1024,
  maxFiles: 50_000,
};
