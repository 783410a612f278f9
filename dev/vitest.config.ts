import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../vitest.shared.js";

// The integration test starts whole stacks (MariaDB, restate-server, s3rver, api, worker, krane, frontline)
// as real processes: a longer per-test budget on a loaded 2-core machine.
export default mergeConfig(shared, defineConfig({ test: { testTimeout: 120_000 } }));
