import { describe, expect, it } from "vitest";
import { RoundRobin } from "../src/balancer.js";

describe("RoundRobin", () => {
  it("rotates across requests per key", () => {
    const rr = new RoundRobin({ failureCooldownMs: 1_000, now: () => 0 });
    const addresses = ["a", "b", "c"];
    const firsts = Array.from({ length: 6 }, () => rr.picker("d1", addresses)());
    expect(firsts).toEqual(["a", "b", "c", "a", "b", "c"]);
    expect(rr.picker("d2", addresses)()).toBe("a");
  });

  it("never returns the same address twice for one request, then runs out", () => {
    const rr = new RoundRobin({ failureCooldownMs: 1_000, now: () => 0 });
    const pick = rr.picker("d", ["a", "b"]);
    expect([pick(), pick(), pick()]).toEqual(["a", "b", undefined]);
    expect(rr.picker("d", [])()).toBeUndefined();
  });

  it("skips a failed address during its cooldown, and uses it again afterwards or once healthy", () => {
    let now = 0;
    const rr = new RoundRobin({ failureCooldownMs: 1_000, now: () => now });
    rr.markFailed("a");
    expect(Array.from({ length: 4 }, () => rr.picker("d", ["a", "b"])())).toEqual(["b", "b", "b", "b"]);
    expect(rr.failing()).toEqual(["a"]);
    now = 1_001;
    expect(new Set(Array.from({ length: 2 }, () => rr.picker("d", ["a", "b"])()))).toEqual(new Set(["a", "b"]));
    rr.markFailed("b");
    rr.markHealthy("b");
    expect(rr.failing()).toEqual([]);
  });

  it("tries failing addresses last rather than refusing outright", () => {
    const rr = new RoundRobin({ failureCooldownMs: 1_000, now: () => 0 });
    rr.markFailed("a");
    rr.markFailed("b");
    const pick = rr.picker("d", ["a", "b"]);
    expect([pick(), pick(), pick()]).toEqual(["a", "b", undefined]);
  });
});
