import { describe, expect, it } from "vitest";
import { createCloudflareProvider } from "./cloudflare.js";
import { DnsProviderRejectedError } from "./provider.js";

/** Records every request and answers from a script: request construction only, no network. */
function recorder(answers: { status: number; body: unknown }[]) {
  const calls: { method: string; url: string; headers: Record<string, string>; body?: unknown }[] = [];
  const fetchFn = (async (url: string | URL, init?: RequestInit) => {
    calls.push({
      method: init?.method ?? "GET",
      url: String(url),
      headers: init?.headers as Record<string, string>,
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    });
    // Running out of answers is a test bug, not a 500: fail loudly instead of answering something.
    const next = answers.shift();
    if (!next) throw new Error(`recorder exhausted: unexpected ${init?.method ?? "GET"} ${String(url)}`);
    return new Response(JSON.stringify(next.body), { status: next.status, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
  return { calls, fetchFn };
}

const ok = (result: unknown) => ({ status: 200, body: { success: true, errors: [], result } });

describe("cloudflare DNS provider", () => {
  it("creates a quoted TXT record in the zone with the bearer token when none exists", async () => {
    const r = recorder([ok([]), ok({ id: "rec1" })]);
    const p = createCloudflareProvider({ apiToken: "tok_123", zoneId: "zone/abc", fetch: r.fetchFn });
    await p.setTxt("_acme-challenge.example.com", "digest-value");
    expect(r.calls).toHaveLength(2);
    const [list, create] = r.calls;
    expect(list!.method).toBe("GET");
    const url = new URL(list!.url);
    expect(url.origin + url.pathname).toBe("https://api.cloudflare.com/client/v4/zones/zone%2Fabc/dns_records");
    expect(Object.fromEntries(url.searchParams)).toEqual({ type: "TXT", name: "_acme-challenge.example.com", content: '"digest-value"' });
    expect(list!.headers.authorization).toBe("Bearer tok_123");
    expect(create!.method).toBe("POST");
    expect(create!.url).toBe("https://api.cloudflare.com/client/v4/zones/zone%2Fabc/dns_records");
    expect(create!.body).toMatchObject({ type: "TXT", name: "_acme-challenge.example.com", content: '"digest-value"', ttl: 60 });
    expect(create!.headers["content-type"]).toBe("application/json");
  });

  it("asks for a durable propagation wait (configurable)", () => {
    expect(createCloudflareProvider({ apiToken: "t", zoneId: "z" }).propagationDelayMs).toBe(20_000);
    expect(createCloudflareProvider({ apiToken: "t", zoneId: "z", propagationDelayMs: 0 }).propagationDelayMs).toBe(0);
  });

  it("is idempotent: an existing identical record is not created twice", async () => {
    const r = recorder([ok([{ id: "rec1", name: "_acme-challenge.example.com", content: '"v"' }])]);
    await createCloudflareProvider({ apiToken: "t", zoneId: "z", fetch: r.fetchFn }).setTxt("_acme-challenge.example.com", "v");
    expect(r.calls.map((c) => c.method)).toEqual(["GET"]);
  });

  it("clears every record with that name and content", async () => {
    const r = recorder([ok([{ id: "a" }, { id: "b" }]), ok({ id: "a" }), ok({ id: "b" })]);
    await createCloudflareProvider({ apiToken: "t", zoneId: "z", baseUrl: "https://cf.test/v4/", fetch: r.fetchFn }).clearTxt(
      "_acme-challenge.x.com",
      "v",
    );
    expect(r.calls.map((c) => `${c.method} ${c.url.split("?")[0]}`)).toEqual([
      "GET https://cf.test/v4/zones/z/dns_records",
      "DELETE https://cf.test/v4/zones/z/dns_records/a",
      "DELETE https://cf.test/v4/zones/z/dns_records/b",
    ]);
  });

  it("treats 4xx (bad token, unknown zone) as rejected for good, 429/5xx as transient", async () => {
    const denied = recorder([{ status: 403, body: { success: false, errors: [{ code: 10000, message: "Authentication error" }] } }]);
    const rejected = await createCloudflareProvider({ apiToken: "t", zoneId: "z", fetch: denied.fetchFn })
      .setTxt("n", "v")
      .catch((e: unknown) => e);
    expect(denied.calls).toHaveLength(1);
    expect(rejected).toBeInstanceOf(DnsProviderRejectedError);
    expect(String(rejected)).toMatch(/cloudflare GET/);
    expect(String(rejected)).toContain("Authentication error");
    const busy = recorder([{ status: 429, body: { success: false, errors: [{ code: 971, message: "throttled" }] } }]);
    const err = await createCloudflareProvider({ apiToken: "t", zoneId: "z", fetch: busy.fetchFn })
      .setTxt("n", "v")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(DnsProviderRejectedError);
    expect(String(err)).toContain("971 throttled");
  });
});
