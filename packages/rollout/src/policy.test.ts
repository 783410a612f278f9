import { describe, expect, it } from "vitest";
import { defaultRolloutPolicy, parseRolloutPolicy, policyFromJson, policySpecOf, policyToJson, type RolloutPolicySpec } from "./policy.js";

const errorsOf = (spec: RolloutPolicySpec) => {
  const parsed = parseRolloutPolicy(spec);
  return parsed.ok ? [] : parsed.errors.map((error) => error.field);
};

describe("parseRolloutPolicy", () => {
  it("an empty spec is the default: blue-green, roll back on failure, 120 s readiness", () => {
    expect(parseRolloutPolicy({})).toEqual({ ok: true, policy: defaultRolloutPolicy });
    expect(defaultRolloutPolicy).toMatchObject({
      strategy: "blue_green",
      parallelism: 1,
      failureAction: "rollback",
      healthCheckTimeoutMs: 120_000,
    });
  });

  it("reads a full canary policy", () => {
    const parsed = parseRolloutPolicy({
      strategy: "canary",
      parallelism: 2,
      delay_between_batches: "30s",
      failure_action: "pause",
      health_check_timeout: "0",
      canary_steps: [
        { weight: 10, pause: "60s" },
        { weight: 50, pause: "1m" },
      ],
      analysis: { interval: "10s", window: "1m", max_error_rate: 0.05, max_p99_latency_ms: 500, min_requests: 20 },
    });
    expect(parsed).toEqual({
      ok: true,
      policy: {
        strategy: "canary",
        parallelism: 2,
        delayBetweenBatchesMs: 30_000,
        failureAction: "pause",
        healthCheckTimeoutMs: 0,
        canarySteps: [
          { weight: 10, pauseMs: 60_000 },
          { weight: 50, pauseMs: 60_000 },
        ],
        analysis: { intervalMs: 10_000, windowMs: 60_000, maxErrorRate: 0.05, maxP99LatencyMs: 500, minRequests: 20 },
      },
    });
  });

  it("names every broken field at once", () => {
    expect(
      errorsOf({
        strategy: "yolo",
        parallelism: 1.5,
        failure_action: "explode",
        delay_between_batches: "soon",
        health_check_timeout: "2h",
      }),
    ).toEqual(["strategy", "parallelism", "failure_action", "delay_between_batches", "health_check_timeout"]);
  });

  it("canary weights must rise strictly within 1..99", () => {
    expect(errorsOf({ canary_steps: [{ weight: 50 }, { weight: 50 }] })).toEqual(["canary_steps[1].weight"]);
    expect(errorsOf({ canary_steps: [{ weight: 0 }] })).toEqual(["canary_steps[0].weight"]);
    expect(errorsOf({ canary_steps: [{ weight: 100 }] })).toEqual(["canary_steps[0].weight"]);
    expect(errorsOf({ canary_steps: [{ weight: 10, pause: "ever" }] })).toEqual(["canary_steps[0].pause"]);
    expect(errorsOf({ canary_steps: Array.from({ length: 11 }, (_, i) => ({ weight: i + 1 })) })).toEqual(["canary_steps"]);
  });

  it("analysis needs a limit, a window no shorter than the interval and sane numbers; interval 0 disables it", () => {
    expect(errorsOf({ analysis: { interval: "10s" } })).toEqual(["analysis"]);
    expect(errorsOf({ analysis: { interval: "10s", window: "5s", max_error_rate: 0.1 } })).toEqual(["analysis.window"]);
    expect(errorsOf({ analysis: { interval: "10s", max_error_rate: 5 } })).toEqual(["analysis.max_error_rate"]);
    expect(errorsOf({ analysis: { interval: "10s", max_p99_latency_ms: -1, min_requests: 0.5 } })).toEqual([
      "analysis.max_p99_latency_ms",
      "analysis.min_requests",
    ]);
    expect(parseRolloutPolicy({ analysis: { interval: "0", max_error_rate: 0.1 } })).toMatchObject({
      ok: true,
      policy: { analysis: null },
    });
  });

  it("round-trips through its stored JSON, and unreadable JSON is the default", () => {
    const parsed = parseRolloutPolicy({ strategy: "rolling", parallelism: 3, canary_steps: [{ weight: 25, pause: "90s" }] });
    if (!parsed.ok) throw new Error("expected a valid policy");
    expect(policyFromJson(policyToJson(parsed.policy))).toEqual(parsed.policy);
    expect(policySpecOf(parsed.policy).canary_steps).toEqual([{ weight: 25, pause: "1m30s" }]);
    expect(policyFromJson(null)).toBe(defaultRolloutPolicy);
    expect(policyFromJson("{not json")).toBe(defaultRolloutPolicy);
    expect(policyFromJson('{"strategy":"nope"}')).toBe(defaultRolloutPolicy);
  });
});
