import { defineConfig } from "vitest/config";

/**
 * The test settings every package shares. Integration files start their own real servers
 * (restate-server, s3rver, a fresh database, child processes), so files run one at a time on these
 * 2-core machines; generous timeouts cover process start-up under load. Packages extend it with
 * `mergeConfig(shared, defineConfig({ … }))` where they need more.
 */
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // The Restate SDK reads RESTATE_LOGGING once, when it loads, and otherwise logs every invocation
    // at INFO: quiet for every test file and the processes it starts (TEST_RESTATE_LOGGING=INFO shows them).
    env: { RESTATE_LOGGING: process.env.RESTATE_LOGGING ?? process.env.TEST_RESTATE_LOGGING ?? "WARN" },
  },
});
