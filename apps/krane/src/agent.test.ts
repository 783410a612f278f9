import { describe, expect, it } from "vitest";
import { runningImage, sentinelFailure } from "./agent.js";

describe("sentinel running image", () => {
  it("is the desired image only once every running replica runs it", () => {
    expect(runningImage([], "new")).toBe("");
    expect(runningImage(["new", "new"], "new")).toBe("new");
    expect(runningImage(["old", "old", "new"], "new")).toBe("old");
    expect(runningImage(["old", "new", "new"], "new")).toBe("new");
  });
});

describe("sentinelFailure (what a fleet rollout's deploy learns from a report)", () => {
  const base = { kind: "sentinel" as const, name: "s", image: "new", desiredReplicas: 1 };
  const inst = (over: Record<string, unknown>) => ({
    name: "s-0",
    address: "",
    phase: "running" as const,
    cpuMillicores: 1,
    memoryMib: 1,
    image: "new",
    ...over,
  });
  it("names a failed replica of the desired image, prefixing start failures and adding the exit code", () => {
    expect(sentinelFailure({ ...base, instances: [inst({ phase: "failed", failureReason: "image_pull_failed: digest mismatch" })] })).toBe(
      "image_pull_failed: digest mismatch",
    );
    expect(
      sentinelFailure({ ...base, instances: [inst({ phase: "failed", failureReason: "gave up after 3 failed starts", exitCode: 3 })] }),
    ).toBe("start_failed: gave up after 3 failed starts (exit code 3)");
  });
  it("ignores failures of the old image and healthy workloads", () => {
    expect(sentinelFailure({ ...base, instances: [inst({ phase: "failed", image: "old", failureReason: "x" })] })).toBeUndefined();
    expect(sentinelFailure({ ...base, instances: [inst({})] })).toBeUndefined();
  });
});
