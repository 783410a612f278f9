import { describe, expect, it } from "vitest";
import { allowedUpstreams, defaultInstancePortRange, parsePortRange, portOf } from "../src/upstream-ports.js";

describe("upstream port range", () => {
  it("defaults to krane's KRANE_PORT_RANGE and parses low-high", () => {
    expect(defaultInstancePortRange).toEqual({ low: 20000, high: 29999 });
    expect(parsePortRange("21000-21009")).toEqual({ low: 21000, high: 21009 });
    for (const bad of ["", "9000", "3000-2000", "0-10", "1-70000", "a-b"])
      expect(() => parsePortRange(bad), bad).toThrow(/must look like 20000-29999/);
  });

  it("drops every address whose port is outside the range or unparsable, reporting each", () => {
    const refused: string[] = [];
    const kept = allowedUpstreams(
      ["127.0.0.1:20000", "127.0.0.1:9070", "[::1]:29999", "10.0.0.1:7070", "127.0.0.1", "host:30000", "127.0.0.1:25000"],
      defaultInstancePortRange,
      (a) => refused.push(a),
    );
    expect(kept).toEqual(["127.0.0.1:20000", "[::1]:29999", "127.0.0.1:25000"]);
    expect(refused).toEqual(["127.0.0.1:9070", "10.0.0.1:7070", "127.0.0.1", "host:30000"]);
    expect(portOf("127.0.0.1:80/x")).toBeUndefined();
  });
});
