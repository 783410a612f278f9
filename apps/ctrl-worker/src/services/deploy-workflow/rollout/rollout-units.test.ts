/**
 * The pure pieces of the rollout engine: a readiness snapshot narrowed to a batch, a crash of a
 * region that was ready, and traffic counters surviving the journal's JSON (no Infinity in JSON).
 */
import { countersFor } from "@ctrl/rollout";
import { describe, expect, it } from "vitest";
import { decodeCounters, encodeCounters } from "./analysis.js";
import { crashAfterReady, snapshotOf } from "./batch.js";

const snapshot = {
  regions: [
    { region: "r1", desiredReplicas: 1, desiredStatus: "running" as const, running: 1, pending: 0, failed: 0 },
    { region: "r2", desiredReplicas: 1, desiredStatus: "running" as const, running: 0, pending: 0, failed: 1 },
  ],
  failures: [{ region: "r2", k8sName: "d-r2-0", exitCode: 3, failureReason: "exited" }],
  runningAddress: "127.0.0.1:1",
};

describe("rollout engine units", () => {
  it("narrows a readiness snapshot to the batch's regions", () => {
    expect(snapshotOf(snapshot, ["r1"])).toEqual({ regions: [snapshot.regions[0]], failures: [], runningAddress: "127.0.0.1:1" });
    expect(snapshotOf(snapshot, ["r2"]).failures).toHaveLength(1);
  });

  it("reports a failed instance of a region that was ready as crashed_after_ready with its exit code, others not", () => {
    expect(crashAfterReady(snapshot, ["r1"])).toBeUndefined();
    const crash = crashAfterReady(snapshot, ["r1", "r2"]);
    expect(crash).toMatchObject({ reason: "crashed_after_ready", region: "r2", observed: { exit_code: 3 } });
    expect(crash?.detail).toMatch(/d-r2-0 in region r2 failed after it was ready with exit code 3: exited/);
  });

  it("keeps the +Inf bucket across the journal's JSON", () => {
    const counters = countersFor(
      [
        'ctrl_http_requests_total{deployment_id="d",status_class="5xx"} 2\n' +
          'ctrl_http_request_duration_seconds_bucket{deployment_id="d",le="0.1"} 1\n' +
          'ctrl_http_request_duration_seconds_bucket{deployment_id="d",le="+Inf"} 2\n',
      ],
      "d",
    );
    const journaled = JSON.parse(JSON.stringify(encodeCounters(counters)));
    expect(decodeCounters(journaled)).toEqual(counters);
    expect(decodeCounters(journaled).buckets.at(-1)?.leMs).toBe(Number.POSITIVE_INFINITY);
  });
});
