import { describe, expect, it } from "vitest";
import { parseSince } from "./duration.js";

describe("parseSince", () => {
  it("reads durations back from now and ISO timestamps, and refuses the rest", () => {
    const now = 10_000_000;
    expect(parseSince("10m", now)).toBe(now - 600_000);
    expect(parseSince("1h30m", now)).toBe(now - 5_400_000);
    expect(parseSince("90s", now)).toBe(now - 90_000);
    expect(parseSince("2026-01-02T03:04:05Z", now)).toBe(Date.parse("2026-01-02T03:04:05Z"));
    expect(parseSince("soon", now)).toBeUndefined();
    expect(parseSince("10", now)).toBeUndefined();
    expect(parseSince("2026-13-45", now)).toBeUndefined();
  });
});
