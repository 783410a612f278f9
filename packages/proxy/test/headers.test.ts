import { describe, expect, it } from "vitest";
import { downstreamResponseHeaders, hasRequestBody, normalizeHost, upstreamRequestHeaders } from "../src/headers.js";

describe("normalizeHost", () => {
  it("lowercases and strips the port and a trailing dot", () => {
    expect(normalizeHost("App.Ctrl.LOCALHOST:8000")).toBe("app.ctrl.localhost");
    expect(normalizeHost("app.ctrl.localhost.")).toBe("app.ctrl.localhost");
    expect(normalizeHost("[::1]:8000")).toBe("[::1]");
  });
  it("rejects missing, empty, oversized and malformed hosts", () => {
    expect(normalizeHost(undefined)).toBeUndefined();
    expect(normalizeHost("")).toBeUndefined();
    expect(normalizeHost("a b")).toBeUndefined();
    expect(normalizeHost("x/y")).toBeUndefined();
    expect(normalizeHost("[::1")).toBeUndefined();
    expect(normalizeHost("a".repeat(254))).toBeUndefined();
  });
});

describe("upstreamRequestHeaders", () => {
  const ctx = { clientIp: "10.1.2.3", proto: "https" as const, host: "app.example.com", trustForwarded: false };

  it("replaces client-sent X-Forwarded-* at the edge", () => {
    const out = upstreamRequestHeaders(
      { host: "app.example.com", "x-forwarded-for": "6.6.6.6", "x-forwarded-proto": "http", "x-forwarded-host": "evil" },
      ctx,
    );
    expect(out["x-forwarded-for"]).toBe("10.1.2.3");
    expect(out["x-forwarded-proto"]).toBe("https");
    expect(out["x-forwarded-host"]).toBe("app.example.com");
    expect(out.host).toBe("app.example.com");
  });

  it("appends to X-Forwarded-For behind a trusted proxy", () => {
    const out = upstreamRequestHeaders(
      { "x-forwarded-for": "1.1.1.1", "x-forwarded-proto": "https", "x-forwarded-host": "a.example" },
      { ...ctx, proto: "http", trustForwarded: true },
    );
    expect(out["x-forwarded-for"]).toBe("1.1.1.1, 10.1.2.3");
    expect(out["x-forwarded-proto"]).toBe("https");
    expect(out["x-forwarded-host"]).toBe("a.example");
  });

  it("drops hop-by-hop headers and those named in Connection; applies extra and remove", () => {
    const out = upstreamRequestHeaders(
      {
        connection: "keep-alive, X-Hop",
        "x-hop": "1",
        "keep-alive": "timeout=5",
        "transfer-encoding": "chunked",
        upgrade: "h2c",
        te: "trailers",
        expect: "100-continue",
        "proxy-authorization": "secret",
        "x-keep": "yes",
        "x-internal": "spoof",
      },
      ctx,
      { "x-added": "1" },
      ["x-internal"],
    );
    for (const name of [
      "connection",
      "x-hop",
      "keep-alive",
      "transfer-encoding",
      "upgrade",
      "te",
      "expect",
      "proxy-authorization",
      "x-internal",
    ])
      expect(out[name]).toBeUndefined();
    expect(out["x-keep"]).toBe("yes");
    expect(out["x-added"]).toBe("1");
  });
});

describe("downstreamResponseHeaders", () => {
  it("keeps end-to-end headers (multi-valued too) and drops hop-by-hop ones", () => {
    const out = downstreamResponseHeaders({
      "set-cookie": ["a=1", "b=2"],
      "content-length": "5",
      connection: "close, x-private",
      "x-private": "1",
      "transfer-encoding": "chunked",
    });
    expect(out).toEqual({ "set-cookie": ["a=1", "b=2"], "content-length": "5" });
  });
});

describe("hasRequestBody", () => {
  it("is true for a positive length or a transfer coding only", () => {
    expect(hasRequestBody({})).toBe(false);
    expect(hasRequestBody({ "content-length": "0" })).toBe(false);
    expect(hasRequestBody({ "content-length": "12" })).toBe(true);
    expect(hasRequestBody({ "transfer-encoding": "chunked" })).toBe(true);
  });
});
