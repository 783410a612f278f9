import { create } from "@bufbuild/protobuf";
import { DeploymentRolloutSchema } from "@ctrl/proto";
import { describe, expect, it } from "vitest";
import { formatPolicy, plainJson, renderDeploymentRollout, rolloutColumns } from "./rollout-format.js";

const rollout = create(DeploymentRolloutSchema, {
  strategy: "rolling",
  state: "rolled_back",
  controlState: "active",
  completedTargets: [],
  failedTargets: ["b"],
  remainingTargets: [],
  failureDetails: [{ target: "b", kind: "start_failed", message: "exited with code 3", observed: { exit_code: 3 } }],
  targets: [
    { region: "a", state: "rolled_back", weight: 0, startedAt: 1_000n, cutOverAt: 2_000n },
    { region: "b", state: "failed", weight: 0, startedAt: 3_000n },
  ],
  checkpoint: { batchIndex: 1, batchCount: 2, stepIndex: 0 },
  policy: { strategy: "rolling", parallelism: 1, delayBetweenBatches: "0s", failureAction: "rollback", healthCheckTimeout: "2m" },
  previousDeploymentId: "d_0",
});

describe("the rollout view", () => {
  it("names the failure with what was observed, and the previous deployment", () => {
    const text = renderDeploymentRollout("d_1", rollout);
    expect(text.split("\n")).toEqual([
      "rollout d_1  rolled_back  ctrl active  rolling  batch 2/2 step 1",
      "  policy  rolling, parallelism 1, delay 0s, on failure rollback, health timeout 2m, no analysis",
      "  a       rolled_back  [....................]   0%  started 00:00:01  cut over 00:00:02",
      "  b       failed       [....................]   0%  started 00:00:03",
      "  ✗ b start_failed: exited with code 3 (exit_code=3)",
      "  0 cut over, 1 failed, 0 remaining of 2; previous d_0",
    ]);
  });

  it("ROLLOUT and CTRL columns, with dashes without a rollout", () => {
    expect(rolloutColumns(rollout)).toBe("ROLLOUT      CTRL    STRATEGY  REGIONS\nrolled_back  active  rolling   0/2 cut over");
    expect(rolloutColumns(undefined)).toBe("ROLLOUT  CTRL  STRATEGY  REGIONS\n-        -     -         -");
  });

  it("JSON with int64 as numbers", () => {
    expect((plainJson(rollout) as { targets: { startedAt: number }[] }).targets[0]!.startedAt).toBe(1_000);
    expect(JSON.stringify(plainJson(rollout))).not.toContain("$typeName");
  });

  it("a policy with analysis in one line", () => {
    expect(
      formatPolicy({
        ...rollout.policy!,
        analysis: { interval: "10s", window: "1m", maxErrorRate: 0.05, maxP99LatencyMs: 0, minRequests: 0 } as never,
      }),
    ).toMatch(/analysis every 10s over 1m \(max 5\.0 % errors\)$/);
  });
});
