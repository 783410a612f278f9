import { describe, expect, it } from "vitest";
import { countersDelta, countersFor, parsePrometheusText, quantileMs } from "./metrics.js";

const exposition = (
  deployment: string,
  ok: number,
  errors: number,
  fast: number,
  slow: number,
) => `# HELP ctrl_http_requests_total Requests.
# TYPE ctrl_http_requests_total counter
ctrl_http_requests_total{deployment_id="${deployment}",status_class="2xx"} ${ok}
ctrl_http_requests_total{deployment_id="${deployment}",status_class="5xx"} ${errors}
ctrl_http_requests_total{deployment_id="other",status_class="5xx"} 1000
ctrl_http_request_duration_seconds_bucket{deployment_id="${deployment}",le="0.05"} ${fast}
ctrl_http_request_duration_seconds_bucket{deployment_id="${deployment}",le="0.5"} ${fast + slow}
ctrl_http_request_duration_seconds_bucket{deployment_id="${deployment}",le="+Inf"} ${fast + slow}
ctrl_http_request_duration_seconds_count{deployment_id="${deployment}"} ${fast + slow}
`;

describe("metrics", () => {
  it("parses samples with escaped label values and skips comments and junk", () => {
    const samples = parsePrometheusText('a_total{x="q\\"uote",y="2"} 3\n# comment\nnot a sample\nb 4.5\n');
    expect(samples).toEqual([
      { name: "a_total", labels: { x: 'q"uote', y: "2" }, value: 3 },
      { name: "b", labels: {}, value: 4.5 },
    ]);
  });

  it("sums one deployment across expositions and ignores other deployments", () => {
    const counters = countersFor([exposition("d_1", 90, 10, 80, 20), exposition("d_1", 5, 5, 10, 0)], "d_1");
    expect(counters.requests).toBe(110);
    expect(counters.errors).toBe(15);
    expect(counters.buckets).toEqual([
      { leMs: 50, count: 90 },
      { leMs: 500, count: 110 },
      { leMs: Number.POSITIVE_INFINITY, count: 110 },
    ]);
  });

  it("a window is the difference of two readings; a reset counter counts whole", () => {
    const before = countersFor([exposition("d_1", 90, 10, 80, 20)], "d_1");
    const after = countersFor([exposition("d_1", 140, 60, 100, 100)], "d_1");
    expect(countersDelta(before, after)).toMatchObject({ requests: 100, errors: 50 });
    const restarted = countersFor([exposition("d_1", 3, 1, 4, 0)], "d_1");
    expect(countersDelta(before, restarted)).toMatchObject({ requests: 4, errors: 1 });
  });

  it("p99 interpolates inside its bucket like histogram_quantile", () => {
    const buckets = [
      { leMs: 50, count: 50 },
      { leMs: 500, count: 100 },
      { leMs: Number.POSITIVE_INFINITY, count: 100 },
    ];
    expect(quantileMs(buckets, 0.5)).toBe(50);
    expect(quantileMs(buckets, 0.99)).toBeCloseTo(491, 0);
    expect(
      quantileMs(
        [
          { leMs: 10, count: 1 },
          { leMs: Number.POSITIVE_INFINITY, count: 100 },
        ],
        0.99,
      ),
    ).toBe(10);
    expect(quantileMs([], 0.99)).toBeUndefined();
  });
});
