import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

// Agent files start instances, agents and a whole control plane: a longer per-test budget.
export default mergeConfig(shared, defineConfig({ test: { testTimeout: 90_000 } }));
