import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

describe("backoff", () => {
  it("grows exponentially with jitter, is capped, and resets", () => {
    const high = new Backoff(100, 1_000, () => 1);
    expect([high.next(), high.next(), high.next(), high.next(), high.next(), high.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    high.reset();
    expect(high.next()).toBe(100);
    const low = new Backoff(100, 1_000, () => 0);
    expect([low.next(), low.next(), low.next()]).toEqual([50, 50, 50]);
  });
});
