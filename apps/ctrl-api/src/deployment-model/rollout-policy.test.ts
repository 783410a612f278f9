import { create } from "@bufbuild/protobuf";
import { RolloutPolicySchema } from "@ctrl/proto";
import { defaultRolloutPolicy } from "@ctrl/rollout";
import { describe, expect, it } from "vitest";
import { policyWire, validatePolicyMessage } from "./rollout-policy.js";

describe("rollout policy on the wire", () => {
  it("proto3 zero values mean the defaults", () => {
    expect(validatePolicyMessage(create(RolloutPolicySchema, {}))).toEqual(defaultRolloutPolicy);
  });

  it("an analysis with interval 0 is no analysis", () => {
    const policy = validatePolicyMessage(create(RolloutPolicySchema, { analysis: { interval: "0" } }));
    expect(policy.analysis).toBeNull();
    expect(policyWire(policy).analysis).toBeUndefined();
  });

  it("round-trips through the wire form", () => {
    const wire = {
      strategy: "canary",
      parallelism: 3,
      delayBetweenBatches: "1m",
      failureAction: "pause",
      healthCheckTimeout: "0s",
      canarySteps: [{ weight: 25, pause: "30s" }],
      analysis: { interval: "10s", window: "1m", maxErrorRate: 0.01, maxP99LatencyMs: 0, minRequests: 5 },
    };
    expect(policyWire(validatePolicyMessage(create(RolloutPolicySchema, wire)))).toEqual(wire);
  });

  it("names the fields of every broken rule with the policy. prefix", () => {
    expect(() => validatePolicyMessage(create(RolloutPolicySchema, { strategy: "x", canarySteps: [{ weight: 0 }] }))).toThrow(
      /policy\.strategy: .*; policy\.canary_steps\[0\]\.weight: /,
    );
  });
});
