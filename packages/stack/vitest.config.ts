import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

// Files here start a whole control plane plus agents, sentinels and frontline as real processes: a
// longer per-test budget on a loaded 2-core machine.
export default mergeConfig(shared, defineConfig({ test: { testTimeout: 90_000 } }));
