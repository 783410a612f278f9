import { describe, expect, it } from "vitest";
import { loadWorkerConfig } from "./config.js";

const key = "publickeyv1_8eKmjRhYEX5CrucSCpVkgY8URdcidK7Uu1XYUwNnaNss";
const other = "publickeyv1_5pEm4dA2ED5hM3EBGaBSkx7wfjm1wzCkDs4rLxAror8Q";

// Guarantee: the worker never falls back to accepting unsigned invocations by itself.
describe("RESTATE_IDENTITY_KEYS", () => {
  it("is required, and the startup error names the variable and the fix", () => {
    expect(() => loadWorkerConfig({})).toThrow(/RESTATE_IDENTITY_KEYS: is required: set it to the request-identity public key/);
    expect(() => loadWorkerConfig({ RESTATE_IDENTITY_KEYS: " , " })).toThrow(/RESTATE_IDENTITY_KEYS: is empty/);
  });

  it("refuses anything but publickeyv1_ keys", () => {
    expect(() => loadWorkerConfig({ RESTATE_IDENTITY_KEYS: "-----BEGIN PUBLIC KEY-----" })).toThrow(/RESTATE_IDENTITY_KEYS: must be publickeyv1_<base58> keys/);
    expect(() => loadWorkerConfig({ RESTATE_IDENTITY_KEYS: `${key},publickeyv1_0OIl` })).toThrow(/RESTATE_IDENTITY_KEYS/);
    // The opt-out is all or nothing: it cannot ride along with real keys.
    expect(() => loadWorkerConfig({ RESTATE_IDENTITY_KEYS: `${key},insecure-accept-unsigned` })).toThrow(/RESTATE_IDENTITY_KEYS/);
  });

  it("takes a comma list (rotation) and the explicit opt-out, which means no keys", () => {
    expect(loadWorkerConfig({ RESTATE_IDENTITY_KEYS: `${key}, ${other}` }).RESTATE_IDENTITY_KEYS).toEqual([key, other]);
    expect(loadWorkerConfig({ RESTATE_IDENTITY_KEYS: "insecure-accept-unsigned" }).RESTATE_IDENTITY_KEYS).toEqual([]);
  });
});
