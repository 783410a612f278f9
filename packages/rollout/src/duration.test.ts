import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.js";

describe("parseDuration", () => {
  it.each([
    ["0", 0],
    ["250ms", 250],
    ["60s", 60_000],
    ["1m30s", 90_000],
    ["2h", 7_200_000],
    ["1.5s", 1_500],
    [" 5m ", 300_000],
  ])("%s is %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "60", "-5s", "5x", "5s garbage", "s", "1m 30s"])("refuses %j", (text) => expect(parseDuration(text)).toBeUndefined());

  it("reads back what formatDuration writes", () => {
    for (const ms of [0, 1, 999, 1_000, 61_001, 3_600_000, 5_430_250]) expect(parseDuration(formatDuration(ms))).toBe(ms);
    expect(formatDuration(90_000)).toBe("1m30s");
  });
});
