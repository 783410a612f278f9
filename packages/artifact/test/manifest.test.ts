import { describe, expect, it } from "vitest";
import { parseManifest } from "../src/manifest.js";

// Guarantee: ctrl.json's `halt` opt-in (docs/halt-contract.md) reaches the agent as written, and a typo is refused.
describe("ctrl.json halt", () => {
  it("accepts statusPath, stayAlive and graceSeconds", () => {
    expect(parseManifest({ start: "node s.js", halt: { statusPath: "/status", stayAlive: true, graceSeconds: 300 } }).halt).toEqual({
      statusPath: "/status",
      stayAlive: true,
      graceSeconds: 300,
    });
  });

  it("refuses a relative status path, a negative grace and unknown keys", () => {
    expect(() => parseManifest({ start: "x", halt: { statusPath: "status" } })).toThrow(/halt.statusPath: must start with \//);
    expect(() => parseManifest({ start: "x", halt: { statusPath: "/s", graceSeconds: -1 } })).toThrow(/halt.graceSeconds/);
    expect(() => parseManifest({ start: "x", halt: { statusPath: "/s", stayalive: true } })).toThrow(/halt/);
  });
});
