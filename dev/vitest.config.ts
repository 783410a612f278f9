import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The integration test starts whole stacks (MariaDB, restate-server, s3rver, api, worker): one at a time.
    fileParallelism: false,
  },
});
