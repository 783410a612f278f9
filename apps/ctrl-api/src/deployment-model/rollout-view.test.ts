import type { DeploymentRolloutRow } from "@ctrl/db";
import { describe, expect, it } from "vitest";
import { rolloutMessage, rolloutView } from "./rollout-view.js";

const row: DeploymentRolloutRow = {
  deployment_id: "d_1",
  workspace_id: "ws_1",
  project_id: "proj_1",
  environment_id: "env_1",
  previous_deployment_id: null,
  strategy: "rolling",
  state: "rolling",
  control_state: "active",
  batches: '[["a"],["b"]]',
  targets: JSON.stringify([
    { region: "a", state: "cut_over", weight: 100, startedAt: 1, cutOverAt: 2 },
    { region: "b", state: "rolled_back", weight: 0, startedAt: 3, cutOverAt: null },
    { region: "c", state: "ready", weight: 0, startedAt: 4, cutOverAt: null },
  ]),
  checkpoint: "{}",
  failure_details: "[]",
  last_analysis: null,
  revision: 3,
  created_at: 1,
  updated_at: 2,
  finished_at: null,
};

describe("rolloutView", () => {
  it("sorts regions into completed, failed and remaining (a rolled-back region is none of them)", () => {
    const view = rolloutView(row, null);
    expect([view.completedTargets, view.failedTargets, view.remainingTargets]).toEqual([["a"], [], ["c"]]);
    expect(view.policy.strategy).toBe("blue_green"); // no snapshot: the default
    expect(view.lastAnalysis).toBeUndefined();
  });

  it("reads half-written or foreign JSON as empty instead of failing the whole GetDeployment", () => {
    const view = rolloutView(
      { ...row, targets: "not json", checkpoint: "[1]", failure_details: '[{"target":"a","observed":{"x":"y","exit_code":3}}, 7]' },
      '{"strategy":"nonsense"}',
    );
    expect(view.targets).toEqual([]);
    expect(view.checkpoint).toEqual({ batchIndex: 0, batchCount: 0, stepIndex: 0, updatedAt: 0 });
    expect(view.failureDetails).toEqual([{ target: "a", kind: "", message: "", observed: { exit_code: 3 } }]);
    expect(view.policy.strategy).toBe("blue_green");
  });

  it("the Connect message carries times as int64 and weights clamped to 0..100", () => {
    const message = rolloutMessage(
      rolloutView({ ...row, targets: '[{"region":"a","state":"cut_over","weight":140,"startedAt":5}]' }, null),
    );
    expect(message.targets).toEqual([{ region: "a", state: "cut_over", weight: 100, startedAt: 5n, cutOverAt: 0n }]);
  });
});
