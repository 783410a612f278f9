import type { BuildConfig } from "@ctrl/build";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WorkerConfig } from "../../config.js";

/**
 * BuildService's settings from the worker config (main.ts). Undefined when `BUILD_BACKEND=none`:
 * every context deploy then fails with `build_not_configured`, naming the variable to set.
 */
export function buildConfigFromConfig(config: WorkerConfig, env: NodeJS.ProcessEnv = process.env): BuildConfig | undefined {
  if (config.BUILD_BACKEND === "none") return undefined;
  const caFile = config.BUILD_CA_FILE ?? env.NODE_EXTRA_CA_CERTS;
  return {
    backend: config.BUILD_BACKEND,
    limits: {
      maxCompressedBytes: config.BUILD_MAX_CONTEXT_BYTES,
      maxExtractedBytes: config.BUILD_MAX_EXTRACTED_BYTES,
      maxFiles: config.BUILD_MAX_FILES,
    },
    timeoutMs: config.BUILD_TIMEOUT_SECONDS * 1000,
    workDir: config.BUILD_WORK_DIR ?? join(tmpdir(), "ctrl-builds"),
    npmRegistry: config.BUILD_NPM_REGISTRY,
    sandbox: config.BUILD_SANDBOX,
    ...(caFile ? { caFile } : {}),
    ...(config.BUILD_DOCKER_REPOSITORY
      ? {
          docker: {
            repository: config.BUILD_DOCKER_REPOSITORY,
            ...(config.BUILD_DOCKER_PLATFORM ? { platform: config.BUILD_DOCKER_PLATFORM } : {}),
            ...(config.BUILD_DOCKER_BUILDER ? { builder: config.BUILD_DOCKER_BUILDER } : {}),
          },
        }
      : {}),
  };
}
