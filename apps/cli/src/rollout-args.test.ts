import { describe, expect, it } from "vitest";
import { parseCliArgs, usage, UsageError } from "./args.js";
import { parseCanarySteps } from "./rollout-args.js";

describe("ctrl env policy / ctrl rollout arguments", () => {
  it("parses env policy get with its defaults", () => {
    expect(parseCliArgs(["env", "policy", "get"])).toEqual({
      command: "env",
      action: "get",
      flags: { json: false, help: false, env: "production" },
    });
    expect(parseCliArgs(["env", "policy", "get", "-e", "preview", "-p", "proj_1", "--json"])).toMatchObject({
      flags: { env: "preview", project: "proj_1", json: true },
    });
  });

  it("parses env policy set into the wire policy; absent flags stay absent (the API fills the defaults)", () => {
    expect(parseCliArgs(["env", "policy", "set", "--strategy", "rolling"])).toMatchObject({
      action: "set",
      flags: { policy: { strategy: "rolling" } },
    });
    const p = parseCliArgs([
      "env",
      "policy",
      "set",
      "--strategy",
      "canary",
      "--parallelism",
      "3",
      "--delay",
      "30s",
      "--failure-action",
      "pause",
      "--health-timeout",
      "0",
      "--canary-steps",
      "10:60s, 50%:1m",
      "--analysis-interval",
      "10s",
      "--max-error-rate",
      "0.05",
      "--max-p99-ms",
      "500",
    ]);
    expect(p).toMatchObject({
      flags: {
        policy: {
          strategy: "canary",
          parallelism: 3,
          delayBetweenBatches: "30s",
          failureAction: "pause",
          healthCheckTimeout: "0",
          canarySteps: [
            { weight: 10, pause: "60s" },
            { weight: 50, pause: "1m" },
          ],
          analysis: { interval: "10s", maxErrorRate: 0.05, maxP99LatencyMs: 500 },
        },
      },
    });
    expect(
      parseCliArgs(["env", "policy", "set", "--strategy", "canary", "--analysis-interval", "5s", "--max-error-rate", "2.5%"]),
    ).toMatchObject({
      flags: { policy: { analysis: { maxErrorRate: 0.025 } } },
    });
  });

  it("refuses what it can tell is wrong before calling the API", () => {
    for (const argv of [
      ["env"],
      ["env", "policy"],
      ["env", "policy", "delete"],
      ["env", "policy", "set"],
      ["env", "policy", "set", "--strategy", "rolling", "--parallelism", "two"],
      ["env", "policy", "set", "--strategy", "rolling", "--max-error-rate", "0.1"],
      ["env", "policy", "set", "--strategy", "rolling", "--analysis-interval", "1s", "--max-error-rate", "lots"],
      ["env", "policy", "get", "--delay", "1s"],
      ["rollout"],
      ["rollout", "status"],
      ["rollout", "halt", "d_1"],
      ["rollout", "pause", "d_1", "d_2"],
      ["rollout", "pause", "d_1", "--follow"],
    ])
      expect(() => parseCliArgs(argv), argv.join(" ")).toThrow(UsageError);
  });

  it("parses rollout actions", () => {
    expect(parseCliArgs(["rollout", "status", "d_1", "-f", "--json"])).toEqual({
      command: "rollout",
      action: "status",
      deploymentId: "d_1",
      flags: { json: true, help: false, follow: true },
    });
    for (const action of ["pause", "resume", "cancel"])
      expect(parseCliArgs(["rollout", action, "d_1"])).toMatchObject({ action, deploymentId: "d_1", flags: { follow: false } });
  });

  it("parses canary steps and documents both commands", () => {
    expect(parseCanarySteps("5,20:30s")).toEqual([
      { weight: 5, pause: "0" },
      { weight: 20, pause: "30s" },
    ]);
    expect(usage("env")).toMatch(/ctrl env policy set .*--strategy rolling\|canary\|blue_green/);
    expect(usage("rollout")).toMatch(/ctrl rollout status <deployment-id> \[--follow\]/);
    expect(parseCliArgs(["rollout", "--help"])).toEqual({ command: "help", topic: "rollout", flags: { json: false, help: true } });
  });
});
