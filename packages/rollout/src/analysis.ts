import { quantileMs, type TrafficCounters } from "./metrics.js";
import type { AnalysisPolicy } from "./policy.js";

/** What one analysis run measured over its window and what it concluded. */
export interface AnalysisResult {
  /** `inconclusive`: fewer requests than `minRequests` (not a failure; the window goes on). */
  verdict: "pass" | "fail" | "inconclusive";
  requests: number;
  errorRate: number;
  /** Undefined without requests. */
  p99LatencyMs: number | undefined;
  /** The limits crossed, in words, e.g. `error rate 0.48 > 0.05` (empty unless `fail`). */
  breaches: string[];
}

/** Judges the traffic of one window (a {@link countersDelta}) against the policy's limits. */
export function evaluateAnalysis(policy: AnalysisPolicy, window: TrafficCounters): AnalysisResult {
  const errorRate = window.requests > 0 ? window.errors / window.requests : 0;
  const p99LatencyMs = quantileMs(window.buckets, 0.99);
  const result = { requests: window.requests, errorRate, p99LatencyMs };
  if (window.requests === 0 || window.requests < policy.minRequests) return { verdict: "inconclusive", ...result, breaches: [] };
  const breaches: string[] = [];
  if (policy.maxErrorRate > 0 && errorRate > policy.maxErrorRate)
    breaches.push(`error rate ${round(errorRate)} > ${policy.maxErrorRate} over ${window.requests} requests`);
  if (policy.maxP99LatencyMs > 0 && p99LatencyMs !== undefined && p99LatencyMs > policy.maxP99LatencyMs)
    breaches.push(`p99 latency ${Math.round(p99LatencyMs)} ms > ${policy.maxP99LatencyMs} ms`);
  return { verdict: breaches.length > 0 ? "fail" : "pass", ...result, breaches };
}

const round = (value: number) => Math.round(value * 1000) / 1000;
