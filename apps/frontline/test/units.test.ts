import { describe, expect, it } from "vitest";
import { loadFrontlineConfig } from "../src/config.js";
import { parseAddresses } from "../src/route-table.js";

describe("parseAddresses", () => {
  it("keeps host:port strings and drops everything else", () => {
    expect(parseAddresses(JSON.stringify(["127.0.0.1:20001", "10.0.0.2:8080"]))).toEqual(["127.0.0.1:20001", "10.0.0.2:8080"]);
    expect(parseAddresses(JSON.stringify(["no-port", 5, null, "a b:1", "http://x:1", "ok:1"]))).toEqual(["ok:1"]);
    expect(parseAddresses(null)).toEqual([]);
    expect(parseAddresses("")).toEqual([]);
    expect(parseAddresses("{not json")).toEqual([]);
    expect(parseAddresses(JSON.stringify({ a: "1.2.3.4:1" }))).toEqual([]);
  });
});

describe("loadFrontlineConfig", () => {
  it("has working local defaults", () => {
    const config = loadFrontlineConfig({});
    expect(config.PORT).toBe(8000);
    expect(config.FRONTLINE_UPSTREAM).toBe("auto");
    expect(config.FRONTLINE_TRUST_FORWARDED).toBe(false);
  });
  it("names the bad variable", () => {
    expect(() => loadFrontlineConfig({ FRONTLINE_UPSTREAM: "magic" })).toThrow(/FRONTLINE_UPSTREAM/);
    expect(() => loadFrontlineConfig({ PORT: "70000" })).toThrow(/PORT/);
    expect(() => loadFrontlineConfig({ FRONTLINE_POLL_INTERVAL_MS: "1" })).toThrow(/FRONTLINE_POLL_INTERVAL_MS/);
  });
});
