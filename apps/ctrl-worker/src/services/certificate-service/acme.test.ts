import { describe, expect, it } from "vitest";
import {
  AcmeProblemError,
  classifyAcmeError,
  DEFAULT_RATE_LIMIT_WAIT_MS,
  dnsChallengeRecordName,
  MAX_RATE_LIMIT_WAIT_MS,
  parseRetryAfter,
} from "./acme.js";

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:01:00 GMT", now)).toBe(60_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
  });
  it("ignores missing and garbage values", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});

describe("classifyAcmeError", () => {
  it("turns 429 and rateLimited into a durable wait of Retry-After (bounded)", () => {
    expect(classifyAcmeError(new AcmeProblemError(429, "urn:ietf:params:acme:error:rateLimited", "too many", 30))).toEqual({
      kind: "rate_limited",
      retryAfterMs: 30_000,
    });
    expect(classifyAcmeError(new AcmeProblemError(400, "urn:ietf:params:acme:error:rateLimited", "x", undefined))).toEqual({
      kind: "rate_limited",
      retryAfterMs: DEFAULT_RATE_LIMIT_WAIT_MS,
    });
    expect(classifyAcmeError(new AcmeProblemError(429, undefined, "x", 10 ** 9))).toEqual({
      kind: "rate_limited",
      retryAfterMs: MAX_RATE_LIMIT_WAIT_MS,
    });
  });
  it("retries server errors, bad nonces and network errors", () => {
    expect(classifyAcmeError(new AcmeProblemError(503, undefined, "down", undefined)).kind).toBe("transient");
    expect(classifyAcmeError(new AcmeProblemError(400, "urn:ietf:params:acme:error:badNonce", "x", undefined)).kind).toBe("transient");
    expect(classifyAcmeError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })).kind).toBe("transient");
  });
  it("fails the challenge on other problems, keeping the detail", () => {
    const cls = classifyAcmeError(
      new AcmeProblemError(400, "urn:ietf:params:acme:error:connection", "127.0.0.1: Connection refused", undefined),
    );
    expect(cls).toEqual({ kind: "failed", reason: "ACME 400 connection: 127.0.0.1: Connection refused" });
    expect(classifyAcmeError(new AcmeProblemError(403, "urn:ietf:params:acme:error:unauthorized", "no", undefined)).kind).toBe("failed");
  });
});

it("names the DNS-01 record after the base domain", () => {
  expect(dnsChallengeRecordName("*.example.com")).toBe("_acme-challenge.example.com");
  expect(dnsChallengeRecordName("a.example.com")).toBe("_acme-challenge.a.example.com");
});
