import { create } from "@bufbuild/protobuf";
import { FleetRolloutSchema } from "@ctrl/proto";
import { describe, expect, it } from "vitest";
import { parseCliArgs, UsageError } from "./args.js";
import { renderRollout } from "./commands/fleet.js";

describe("ctrl fleet arguments", () => {
  it("parses rollout with waves, webhook and --json", () => {
    const p = parseCliArgs([
      "fleet",
      "rollout",
      "--image",
      "s3://b/k@sha256:" + "a".repeat(64),
      "--waves",
      "1,5,25,50,100",
      "--webhook",
      "https://hooks.example/x",
      "--json",
    ]);
    expect(p).toMatchObject({
      command: "fleet",
      action: "rollout",
      flags: { waves: [1, 5, 25, 50, 100], webhook: "https://hooks.example/x", json: true },
    });
  });

  it("parses resume --retry-failed and status --follow", () => {
    expect(parseCliArgs(["fleet", "resume", "--retry-failed"])).toMatchObject({ action: "resume", flags: { retryFailed: true } });
    expect(parseCliArgs(["fleet", "status", "--follow"])).toMatchObject({ action: "status", flags: { follow: true } });
  });

  it("refuses an unknown action, a rollout without --image and malformed waves", () => {
    expect(() => parseCliArgs(["fleet", "explode"])).toThrow(/unknown fleet action "explode"/);
    expect(() => parseCliArgs(["fleet", "rollout"])).toThrow(/needs --image/);
    expect(() => parseCliArgs(["fleet", "rollout", "--image", "x", "--waves", "1,five,100"])).toThrow(UsageError);
  });
});

describe("ctrl fleet status view", () => {
  it("shows one line per wave with a bar, the counts and the failures with reasons", () => {
    const r = create(FleetRolloutSchema, {
      id: "ro_1",
      state: "paused",
      pausedReason: "failures",
      image: "img",
      total: 4,
      succeeded: 2,
      failed: 1,
      pending: 1,
      waves: [
        { index: 0, percent: 25, size: 1, cumulative: 1, status: "completed", succeeded: 1 },
        { index: 1, percent: 50, size: 1, cumulative: 2, status: "running", succeeded: 0, failed: 1 },
        { index: 2, percent: 100, size: 2, cumulative: 4, status: "pending", succeeded: 1 },
      ],
      targets: [
        { sentinelId: "se_b", region: "r2", outcome: "failed", reason: "start_failed", message: "exited with code 3", exitCode: 3 },
      ],
    });
    const text = renderRollout(r);
    expect(text).toContain("rollout ro_1  paused (failures)");
    expect(text).toContain("wave 1  25%  [####################] 1/1  completed");
    expect(text).toContain("wave 2  50%  [####################] 1/1  running  1 failed");
    expect(text).toContain("2 succeeded, 1 failed, 1 pending of 4");
    expect(text).toContain("✗ se_b (r2) failed: start_failed exit 3 — exited with code 3");
  });
});
