import { countersFor } from "@ctrl/rollout";
import { describe, expect, it } from "vitest";
import { createTrafficMetrics } from "./traffic-metrics.js";

describe("createTrafficMetrics", () => {
  it("counts requests by deployment and status class, readable by the rollout analysis", async () => {
    const metrics = createTrafficMetrics();
    for (let i = 0; i < 8; i++) metrics.observe("d_new", 200, 12);
    metrics.observe("d_new", 500, 40);
    metrics.observe("d_new", 502, 3, true);
    metrics.observe("d_new", 0, 1);
    metrics.observe("d_old", 404, 5);
    const { body, contentType } = await metrics.expose();
    expect(contentType).toContain("text/plain");
    expect(body).toContain('ctrl_http_requests_total{deployment_id="d_new",status_class="2xx"} 8');
    expect(body).toContain('ctrl_http_requests_total{deployment_id="d_new",status_class="error"} 1');
    const counters = countersFor([body], "d_new");
    expect(counters.requests).toBe(11);
    expect(counters.errors).toBe(2);
    expect(counters.buckets.find((b) => b.leMs === 25)?.count).toBe(10);
    expect(countersFor([body], "d_old")).toMatchObject({ requests: 1, errors: 0 });
  });

  it("keeps at most maxDeployments, dropping the one seen longest ago", async () => {
    const metrics = createTrafficMetrics({ maxDeployments: 2 });
    metrics.observe("d_1", 200, 1);
    metrics.observe("d_2", 200, 1);
    metrics.observe("d_1", 200, 1);
    metrics.observe("d_3", 200, 1);
    expect(metrics.tracked()).toBe(2);
    const { body } = await metrics.expose();
    expect(body).not.toContain('deployment_id="d_2"');
    expect(countersFor([body], "d_1").requests).toBe(2);
  });

  it("drops deployments idle longer than idleMs when read", async () => {
    let clock = 0;
    const metrics = createTrafficMetrics({ idleMs: 1_000, now: () => clock });
    metrics.observe("d_old", 200, 1);
    clock = 900;
    metrics.observe("d_new", 200, 1);
    clock = 1_500;
    const { body } = await metrics.expose();
    expect(body).not.toContain("d_old");
    expect(body).toContain("d_new");
    expect(metrics.tracked()).toBe(1);
  });
});
