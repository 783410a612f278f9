import { describe, expect, it } from "vitest";
import { parseHaltIntent } from "./halt-status.js";

// Guarantee: the agent reads exactly the contract's halt_intent and treats anything else as "no status endpoint".
describe("parseHaltIntent", () => {
  it("is null while the app runs normally", () => {
    expect(parseHaltIntent('{"height": 5}')).toBeNull();
    expect(parseHaltIntent('{"halt_intent": null}')).toBeNull();
  });

  it("reads reason, plan, height, info and announced_at", () => {
    expect(
      parseHaltIntent(
        JSON.stringify({
          halt_intent: { reason: "upgrade_required", plan_name: "v2", height: 1200, info: "reached", announced_at: "2026-01-01T00:00:00Z" },
        }),
      ),
    ).toEqual({
      reason: "upgrade_required",
      planName: "v2",
      height: 1200,
      info: "reached",
      announcedAt: Date.parse("2026-01-01T00:00:00Z"),
    });
  });

  it("is undefined for what is not the contract (not JSON, unknown reason)", () => {
    expect(parseHaltIntent("<html>")).toBeUndefined();
    expect(parseHaltIntent('{"halt_intent": {"reason": "tired"}}')).toBeUndefined();
    expect(parseHaltIntent('{"halt_intent": "upgrade_required"}')).toBeUndefined();
  });
});
