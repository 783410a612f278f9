/**
 * The worker's health server against hostile request lines over raw sockets. Guarantees: a few
 * thousand seeded random/malformed requests get no 5xx (503 is its "not registered yet" answer,
 * so it runs registered here), it still answers /health afterwards, and a 20 MB body is answered
 * without being buffered.
 */
import type { Server } from "node:http";
import { fireRequests, fuzzRequests, sendLargeBody, tallyReplies } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHealthServer } from "../src/health.js";

let server: Server;
let port: number;

beforeAll(async () => {
  server = createHealthServer(() => ({ registered: true }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe("worker health server", () => {
  it("survives 2000 random and malformed requests with no 5xx", { timeout: 120_000 }, async () => {
    const requests = fuzzRequests(0x776f726b, 2000, { hosts: ["localhost"], paths: ["/health", "/health?x=1", "/"] });
    const replies = await fireRequests(port, requests);
    const tally = tallyReplies(replies);
    const bad = replies.flatMap((r, i) =>
      (r.status !== undefined && r.status >= 500) || r.timedOut || (r.status === undefined && r.bytes.length > 0)
        ? [{ i, request: requests[i]!.subarray(0, 300).toString("latin1") }]
        : [],
    );
    expect(bad, JSON.stringify(tally)).toEqual([]);
    expect(tally["200"] ?? 0, JSON.stringify(tally)).toBeGreaterThan(20);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });

  it.each(["content-length", "chunked"] as const)("a 20 MB POST (%s) is answered 404 without being buffered", async (framing) => {
    const result = await sendLargeBody({ port, path: "/health", totalBytes: 20 * 1024 * 1024, framing });
    expect(result.status).toBe(404);
    expect(result.peakRssGrowth).toBeLessThan(8 * 1024 * 1024);
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });
});
