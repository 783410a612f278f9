import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // Files start real processes (instances, agents, a control plane); keep them sequential on 2 cores.
    fileParallelism: false,
  },
});
