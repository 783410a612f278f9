import { describe, expect, it } from "vitest";
import { describeMiss } from "./lookup.js";

// Guarantee: the reason a user sees says what to do, and never dumps a huge TXT set.
describe("describeMiss", () => {
  const name = "_ctrl-challenge.shop.example.com";
  it("is undefined only when the exact value is among the record's values", () => {
    expect(describeMiss(name, "v1", { ok: true, values: ["other", "v1"] })).toBeUndefined();
    expect(describeMiss(name, "v1", { ok: true, values: ["v1 "] })).toBeDefined();
    expect(describeMiss(name, "v1", { ok: true, values: ["V1"] })).toBeDefined();
  });
  it("tells the user to create the record when there is none", () => {
    for (const lookup of [
      { ok: false as const, code: "ENODATA" },
      { ok: false as const, code: "ENOTFOUND" },
      { ok: true as const, values: [] },
    ]) {
      expect(describeMiss(name, "v1", lookup)).toBe(`no TXT record at ${name} yet: create TXT ${name} with the value shown`);
    }
  });
  it("names a resolver failure", () => {
    expect(describeMiss(name, "v1", { ok: false, code: "ETIMEOUT" })).toBe(`DNS lookup of TXT ${name} failed (ETIMEOUT); will check again`);
  });
  it("shows at most three values seen, each cut at 80 characters", () => {
    const reason = describeMiss(name, "v1", { ok: true, values: ["a", "b", "c", "x".repeat(500)] })!;
    expect(reason).toBe(`TXT ${name} has 4 value(s) ("a", "b", "c", …) but not the expected one`);
    expect(describeMiss(name, "v1", { ok: true, values: ["y".repeat(500)] })!.length).toBeLessThan(200);
  });
});
