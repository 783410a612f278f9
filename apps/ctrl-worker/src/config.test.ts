import { describe, expect, it } from "vitest";
import { workerConfigSchema } from "./config.js";

// Guarantee: the verification resolver is an address list or the system's resolvers, never a name
// (a resolver found through DNS would let whoever answers that lookup answer ownership checks).
// Only this field is parsed, so other required variables do not matter here.
const parse = (value: string | undefined) => workerConfigSchema.shape.DNS_RESOLVER.safeParse(value);

describe("DNS_RESOLVER", () => {
  it("parses a comma list of addresses with optional ports", () => {
    expect(parse("127.0.0.1:8053, 10.0.0.53").data).toEqual(["127.0.0.1:8053", "10.0.0.53"]);
    expect(parse("[::1]:53").data).toEqual(["[::1]:53"]);
  });
  it("defaults to the system's resolvers", () => {
    expect(parse(undefined)).toMatchObject({ success: true, data: undefined });
    expect(parse("")).toMatchObject({ success: true, data: undefined });
  });
  it("refuses a hostname and says what it wants", () => {
    const r = parse("dns.example.com");
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toBe("an IP address, optionally with :port (e.g. 127.0.0.1:8053)");
  });
});
