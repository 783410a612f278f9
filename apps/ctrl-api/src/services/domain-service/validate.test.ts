import { describe, expect, it } from "vitest";
import { checkCustomDomain } from "./validate.js";

const apex = "ctrl.example.net";

describe("checkCustomDomain", () => {
  it.each([
    ["app.example.com", "app.example.com", false],
    ["  App.Example.COM. ", "app.example.com", false],
    ["*.example.com", "*.example.com", true],
    ["a-b.c-d.example.co.uk", "a-b.c-d.example.co.uk", false],
    ["bücher.example", "xn--bcher-kva.example", false],
    ["ctrl.example.net.evil.com", "ctrl.example.net.evil.com", false],
    ["notctrl.example.net", "notctrl.example.net", false],
  ])("accepts %s", (input, domain, wildcard) => {
    expect(checkCustomDomain(input, apex)).toEqual({ ok: true, domain, wildcard });
  });

  it.each([
    ["", "empty"],
    ["   ", "empty"],
    ["localhost", "one label"],
    ["*.com", "wildcard over a TLD"],
    ["a.*.example.com", "wildcard not first"],
    ["*example.com", "partial wildcard"],
    ["**.example.com", "double wildcard"],
    ["-a.example.com", "leading hyphen"],
    ["a-.example.com", "trailing hyphen"],
    ["a..example.com", "empty label"],
    ["a_b.example.com", "underscore"],
    ["exa mple.com", "space"],
    ["127.0.0.1", "IPv4"],
    ["[::1]", "IPv6"],
    ["http://example.com", "URL"],
    ["example.com/path", "path"],
    [`${"a".repeat(64)}.example.com`, "label too long"],
    [`${"a.".repeat(127)}com`, "name too long"],
    ["ctrl.example.net", "the apex"],
    ["app.ctrl.example.net", "under the apex"],
    ["*.ctrl.example.net", "wildcard under the apex"],
    ["*.example.net", "wildcard covering the apex"],
  ])("rejects %s (%s)", (input) => {
    const r = checkCustomDomain(input, apex);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
  });
});
