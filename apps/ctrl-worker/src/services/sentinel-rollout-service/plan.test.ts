import { describe, expect, it } from "vitest";
import type { RolloutState } from "./api.js";
import {
  advance,
  newRolloutState,
  noEffects,
  planWaves,
  recordStep,
  resumeRollout,
  startRollback,
  waveListProblem,
  type Effects,
} from "./plan.js";

// The rollout rules as pure functions: wave sizes, pausing on failure at the wave's end, the
// concurrency bound, resume skip/retry, rollback of every changed target (failed ones included).

function fleet(n: number, waves = [1, 5, 25, 50, 100], concurrency = 100): { s: RolloutState; fx: Effects } {
  const candidates = Array.from({ length: n }, (_, i) => ({
    sentinelId: `se_${i}`,
    region: i % 2 ? "b" : "a",
    environmentId: `env_${i}`,
    image: "old",
  }));
  const s = newRolloutState({ id: "ro_1", image: "new", wavePercentages: waves, concurrency, createdBy: "t", candidates, now: 0 });
  const fx = noEffects();
  advance(s, 0, fx);
  return { s, fx };
}

function finish(s: RolloutState, ids: string[], ok: (id: string) => boolean, mode: "forward" | "revert" = "forward"): Effects {
  const fx = noEffects();
  for (const id of ids) {
    const t = s.targets.find((x) => x.sentinelId === id)!;
    const result = ok(id)
      ? { ok: true as const, image: "new", previousImage: "old", unchanged: false }
      : { ok: false as const, image: "new", previousImage: "old", reason: "start_failed" as const, message: "exited with code 1" };
    expect(recordStep(s, { rolloutId: s.id, sentinelId: id, step: t.step, mode, result }, 1, fx)).toBe(true);
    advance(s, 1, fx);
  }
  return fx;
}

describe("wave lists", () => {
  it("accepts the default and rejects every broken list, naming the rule", () => {
    expect(waveListProblem([1, 5, 25, 50, 100])).toBeUndefined();
    expect(waveListProblem([100])).toBeUndefined();
    expect(waveListProblem([])).toMatch(/non-empty/);
    expect(waveListProblem([5, 5, 100])).toMatch(/strictly increasing/);
    expect(waveListProblem([10, 5, 100])).toMatch(/strictly increasing/);
    expect(waveListProblem([0, 100])).toMatch(/between 1 and 100/);
    expect(waveListProblem([50, 101])).toMatch(/between 1 and 100/);
    expect(waveListProblem([1.5, 100])).toMatch(/integer/);
    expect(waveListProblem([10, 50])).toMatch(/end at 100/);
    expect(waveListProblem(Array.from({ length: 21 }, (_, i) => i + 80))).toMatch(/at most 20/);
  });

  it("sizes waves as ceil(p × N / 100) cumulatively and skips empty ones", () => {
    expect(planWaves([1, 5, 25, 50, 100], 20).map((w) => w.cumulative)).toEqual([1, 1, 5, 10, 20]);
    expect(planWaves([1, 5, 25, 50, 100], 20).map((w) => w.status)).toEqual(["pending", "skipped", "pending", "pending", "pending"]);
    expect(planWaves([1, 5, 25, 50, 100], 200).map((w) => w.size)).toEqual([2, 8, 40, 50, 100]);
  });
});

describe("running a rollout", () => {
  it("completes wave by wave, never starting a wave before the last ended", () => {
    const { s, fx } = fleet(20);
    expect(fx.dispatches.map((d) => d.sentinelId)).toEqual(["se_0"]);
    expect(fx.events.map((e) => e.event)).toEqual(["wave_started"]);
    const sizes: number[] = [fx.dispatches.length];
    for (;;) {
      const inFlight = s.targets.filter((t) => t.outcome === "deploying").map((t) => t.sentinelId);
      if (!inFlight.length) break;
      const next = finish(s, inFlight, () => true);
      if (next.dispatches.length) sizes.push(next.dispatches.length);
    }
    expect(sizes).toEqual([1, 4, 5, 10]);
    expect(s.state).toBe("completed");
    expect(s.targets.every((t) => t.outcome === "succeeded")).toBe(true);
  });

  it("respects the concurrency bound within a wave", () => {
    const { s, fx } = fleet(20, [100], 3);
    expect(fx.dispatches).toHaveLength(3);
    const more = finish(s, ["se_0"], () => true);
    expect(more.dispatches.map((d) => d.sentinelId)).toEqual(["se_3"]);
  });

  it("pauses at the end of a wave with a failure; resume skips, and the end stays paused; retry redeploys", () => {
    const { s } = fleet(20);
    finish(s, ["se_0"], () => true); // wave 1 done → wave 3 (5 cumulative) starts se_1..se_4
    const fx = finish(s, ["se_1", "se_2", "se_3", "se_4"], (id) => id !== "se_2");
    expect(s.state).toBe("paused");
    expect(s.pausedReason).toBe("failures");
    const paused = fx.events.find((e) => e.event === "paused")!;
    expect(paused.failures).toEqual([{ sentinel_id: "se_2", reason: "start_failed", message: "exited with code 1" }]);
    expect(s.targets[0]!.outcome).toBe("succeeded");

    const r = noEffects();
    resumeRollout(s, false, 2, r);
    expect(s.targets[2]!.outcome).toBe("skipped");
    expect(r.dispatches).toHaveLength(5); // the next wave
    while (s.targets.some((t) => t.outcome === "deploying"))
      finish(
        s,
        s.targets.filter((t) => t.outcome === "deploying").map((t) => t.sentinelId),
        () => true,
      );
    expect(s.state).toBe("paused");
    expect(s.pausedReason).toBe("skipped");

    const retry = noEffects();
    resumeRollout(s, true, 3, retry);
    expect(retry.dispatches.map((d) => d.sentinelId)).toEqual(["se_2"]);
    finish(s, ["se_2"], () => true);
    expect(s.state).toBe("completed");
  });

  it("rollbackAll reverts every changed target, failed and in-flight ones included, to the image captured at start", () => {
    const { s } = fleet(20, [1, 5, 25, 50, 100], 2);
    finish(s, ["se_0"], () => true);
    finish(s, ["se_1", "se_2"], (id) => id !== "se_2"); // se_3, se_4 now deploying
    s.state = "paused";
    const fx = noEffects();
    const count = startRollback(s, 5, fx);
    expect(count).toBe(5); // se_0..se_4: succeeded, failed and in flight
    expect(fx.dispatches.every((d) => d.mode === "revert" && d.image === "old")).toBe(true);
    expect(s.state).toBe("rolling_back");
    // A late forward result is stale: the revert replaced that step.
    const late = noEffects();
    expect(
      recordStep(
        s,
        {
          rolloutId: s.id,
          sentinelId: "se_3",
          step: 1,
          mode: "forward",
          result: { ok: true, image: "new", previousImage: "old", unchanged: false },
        },
        6,
        late,
      ),
    ).toBe(false);
    while (s.targets.some((t) => t.revert === "reverting"))
      finish(
        s,
        s.targets.filter((t) => t.revert === "reverting").map((t) => t.sentinelId),
        () => true,
        "revert",
      );
    expect(s.state).toBe("rolled_back");
    expect(s.targets.filter((t) => t.revert === "reverted")).toHaveLength(5);
    expect(s.targets.filter((t) => t.revert === undefined).every((t) => t.outcome === "pending")).toBe(true);
  });

  it("an empty fleet completes at once", () => {
    const { s } = fleet(0);
    expect(s.state).toBe("completed");
  });
});
