import { describe, expect, it } from "vitest";
import { loadWorkerConfig, workerConfigSchema } from "./config.js";

/** The other required variables, so each case is about the one it names. */
const s3Keys = { S3_ACCESS_KEY_ID: "test-key-id", S3_SECRET_ACCESS_KEY: "test-secret" };

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

const key = "publickeyv1_8eKmjRhYEX5CrucSCpVkgY8URdcidK7Uu1XYUwNnaNss";
const other = "publickeyv1_5pEm4dA2ED5hM3EBGaBSkx7wfjm1wzCkDs4rLxAror8Q";

// Guarantee: the worker never falls back to accepting unsigned invocations by itself.
describe("RESTATE_IDENTITY_KEYS", () => {
  it("is required, and the startup error names the variable and the fix", () => {
    expect(() => loadWorkerConfig({})).toThrow(/RESTATE_IDENTITY_KEYS: is required: set it to the request-identity public key/);
    expect(() => loadWorkerConfig({ ...s3Keys, RESTATE_IDENTITY_KEYS: " , " })).toThrow(/RESTATE_IDENTITY_KEYS: is empty/);
  });

  it("refuses anything but publickeyv1_ keys", () => {
    expect(() => loadWorkerConfig({ ...s3Keys, RESTATE_IDENTITY_KEYS: "-----BEGIN PUBLIC KEY-----" })).toThrow(
      /RESTATE_IDENTITY_KEYS: must be publickeyv1_<base58> keys/,
    );
    expect(() => loadWorkerConfig({ ...s3Keys, RESTATE_IDENTITY_KEYS: `${key},publickeyv1_0OIl` })).toThrow(/RESTATE_IDENTITY_KEYS/);
    // The opt-out is all or nothing: it cannot ride along with real keys.
    expect(() => loadWorkerConfig({ ...s3Keys, RESTATE_IDENTITY_KEYS: `${key},insecure-accept-unsigned` })).toThrow(
      /RESTATE_IDENTITY_KEYS/,
    );
  });

  it("takes a comma list (rotation) and the explicit opt-out, which means no keys", () => {
    expect(loadWorkerConfig({ ...s3Keys, RESTATE_IDENTITY_KEYS: `${key}, ${other}` }).RESTATE_IDENTITY_KEYS).toEqual([key, other]);
    expect(loadWorkerConfig({ ...s3Keys, RESTATE_IDENTITY_KEYS: "insecure-accept-unsigned" }).RESTATE_IDENTITY_KEYS).toEqual([]);
  });
});
