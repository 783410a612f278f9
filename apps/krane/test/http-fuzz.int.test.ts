/**
 * The agent's HTTP endpoint against hostile request lines over raw sockets. Guarantees: `GET //`
 * (which used to throw `Invalid URL` and take krane down), bad percent-encoding, absolute-form
 * targets, `..`, huge headers and a few thousand seeded random/malformed requests each get a sane
 * 4xx (or a closed connection for bytes that are not HTTP), never a 5xx or a crash, and /health
 * still answers afterwards; a 20 MB body is refused without being buffered.
 */
import type { Server } from "node:http";
import { fireRequests, fuzzRequests, rawExchange, sendLargeBody, tallyReplies } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentHttpServer } from "../src/http.js";

const token = "fuzz-token-0123456789";
let server: Server;
let port: number;

beforeAll(async () => {
  server = createAgentHttpServer({
    token,
    status: () => ({ region: "test" }),
    logs: async (instance) => (instance === "d_1-0" ? ["one", "two"] : undefined),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

const get = (target: string, headers: string[] = []) =>
  rawExchange(
    port,
    Buffer.from([`GET ${target} HTTP/1.1`, "Host: localhost", ...headers, "Connection: close", "", ""].join("\r\n"), "latin1"),
  );

async function expectHealthy() {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  expect(res.status).toBe(200);
}

describe("request lines that used to crash or confuse the agent", () => {
  it.each([
    ["//", 401],
    ["///health", 401],
    ["//evil.example/status", 401],
    ["/logs/%zz", 401],
    ["http://evil.example/health", 400],
    ["*", 400],
    ["/../../etc/passwd", 401],
    ["/%2e%2e/health", 401],
    ["/health?%zz=%", 200],
  ])("GET %s → %i", async (target, status) => {
    expect((await get(target)).status).toBe(status);
    await expectHealthy();
  });

  it("answers 400 for bad percent-encoding in a log instance name (authorized)", async () => {
    const reply = await get("/logs/%E0%A4%A", [`Authorization: Bearer ${token}`]);
    expect(reply.status).toBe(400);
    expect(reply.bytes.toString()).toContain("percent-encoding");
    expect((await get("/logs/d_1-0?lines=%zz", [`Authorization: Bearer ${token}`])).status).toBe(400);
    expect((await get("/logs/d_1-0", [`Authorization: Bearer ${token}`])).status).toBe(200);
  });

  it("answers 431 for a header block over 16 KiB", async () => {
    expect((await get("/health", [`X-Huge: ${"h".repeat(20_000)}`])).status).toBe(431);
    await expectHealthy();
  });
});

describe("seeded fuzz", () => {
  it("survives 3000 random and malformed requests with no 5xx", { timeout: 120_000 }, async () => {
    const requests = fuzzRequests(0x6b72616e, 3000, {
      hosts: ["localhost", "127.0.0.1"],
      paths: ["/health", "/status", "/logs/d_1-0", "/logs/d_1-0?lines=3", "/logs/nope-0"],
      headers: [`Authorization: Bearer ${token}`],
    });
    const replies = await fireRequests(port, requests);
    const tally = tallyReplies(replies);
    const bad = replies.flatMap((r, i) =>
      (r.status !== undefined && r.status >= 500) || r.timedOut || (r.status === undefined && r.bytes.length > 0)
        ? [{ i, request: requests[i]!.subarray(0, 200).toString("latin1"), reply: r.bytes.subarray(0, 200).toString("latin1") }]
        : [],
    );
    expect(bad, JSON.stringify(tally)).toEqual([]);
    // The fuzz reached the handler, not only Node's parser.
    expect(tally["200"] ?? 0, JSON.stringify(tally)).toBeGreaterThan(50);
    expect((tally["404"] ?? 0) + (tally["401"] ?? 0), JSON.stringify(tally)).toBeGreaterThan(50);
    await expectHealthy();
  });
});

describe("oversized bodies", () => {
  it.each(["content-length", "chunked"] as const)("refuses a 20 MB POST (%s) with 405 without buffering it", async (framing) => {
    const result = await sendLargeBody({ port, path: "/status", totalBytes: 20 * 1024 * 1024, framing });
    expect(result.status).toBe(405);
    expect(result.peakRssGrowth).toBeLessThan(8 * 1024 * 1024);
    await expectHealthy();
  });
});
