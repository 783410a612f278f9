import { describe, expect, it } from "vitest";
import { evaluateAnalysis } from "./analysis.js";

const policy = { intervalMs: 10_000, windowMs: 60_000, maxErrorRate: 0.05, maxP99LatencyMs: 300, minRequests: 20 };
const fast = (count: number) => [
  { leMs: 50, count },
  { leMs: Number.POSITIVE_INFINITY, count },
];

describe("evaluateAnalysis", () => {
  it("passes healthy traffic", () => {
    expect(evaluateAnalysis(policy, { requests: 100, errors: 2, buckets: fast(100) })).toMatchObject({
      verdict: "pass",
      errorRate: 0.02,
      breaches: [],
    });
  });

  it("fails half 500s and names the measured rate against the limit", () => {
    const result = evaluateAnalysis(policy, { requests: 200, errors: 100, buckets: fast(200) });
    expect(result.verdict).toBe("fail");
    expect(result.errorRate).toBe(0.5);
    expect(result.breaches).toEqual(["error rate 0.5 > 0.05 over 200 requests"]);
  });

  it("fails a slow p99", () => {
    const slow = [
      { leMs: 50, count: 50 },
      { leMs: 1000, count: 100 },
      { leMs: Number.POSITIVE_INFINITY, count: 100 },
    ];
    expect(evaluateAnalysis(policy, { requests: 100, errors: 0, buckets: slow })).toMatchObject({
      verdict: "fail",
      breaches: ["p99 latency 981 ms > 300 ms"],
    });
  });

  it("too little traffic is inconclusive, not a failure; limits of 0 are not checked", () => {
    expect(evaluateAnalysis(policy, { requests: 10, errors: 10, buckets: fast(10) }).verdict).toBe("inconclusive");
    expect(evaluateAnalysis(policy, { requests: 0, errors: 0, buckets: [] }).verdict).toBe("inconclusive");
    expect(evaluateAnalysis({ ...policy, maxErrorRate: 0 }, { requests: 100, errors: 100, buckets: fast(100) }).verdict).toBe("pass");
  });
});
