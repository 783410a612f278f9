/**
 * Frontline against hostile request lines over raw sockets, with a routed host and a real upstream.
 * Guarantees: absolute-form and other non-path targets are 400 (they used to reach undici and come
 * back 502); a few thousand seeded random/malformed requests — to unknown hosts and to the routed one,
 * so forwarding runs — get no 5xx and frontline still answers its health path; a 20 MB body is 413
 * without being buffered.
 */
import { createServer, type Server } from "node:http";
import { createUpstreamPool } from "@ctrl/proxy";
import { fireRequests, fuzzRequests, rawExchange, sendLargeBody, tallyReplies } from "@ctrl/testing";
import { pino } from "pino";
import type { Dispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFrontline } from "../src/frontline.js";
import type { RouteSnapshot, RouteSource } from "../src/route-table.js";

const routedHost = "app.fuzz.ctrl.localhost";
let upstream: Server;
let server: Server;
let dispatcher: Dispatcher;
let port: number;

beforeAll(async () => {
  // The upstream app: reads whatever it is sent and answers 200.
  upstream = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const address = `127.0.0.1:${(upstream.address() as { port: number }).port}`;
  // A fixed route table (the handler takes any RouteSource): one host, one running instance.
  const snapshot: RouteSnapshot = {
    routes: new Map([[routedHost, { deploymentId: "d_fuzz", environmentId: "env_fuzz", projectId: "proj_fuzz", workspaceId: "ws_fuzz" }]]),
    instances: new Map([["d_fuzz", [address]]]),
    sentinels: new Map(),
  };
  const routes: RouteSource = { snapshot: () => snapshot, nextRefresh: async () => {}, lastRefreshAt: () => Date.now() };
  dispatcher = createUpstreamPool({ connectTimeoutMs: 1_000 });
  const frontline = createFrontline({
    routes,
    dispatcher,
    logger: pino({ level: "silent" }),
    settings: {
      mode: "instances",
      maxBodyBytes: 1024 * 1024,
      upstreamHeadersTimeoutMs: 5_000,
      upstreamBodyTimeoutMs: 5_000,
      maxAttempts: 2,
      missWaitMs: 10,
      failureCooldownMs: 1_000,
      trustForwarded: false,
    },
  });
  server = frontline.createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of [server, upstream]) {
    s?.closeAllConnections();
    await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }
  await dispatcher?.close();
});

const get = (target: string, host = routedHost) =>
  rawExchange(port, Buffer.from(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, "latin1"));

async function expectHealthy() {
  expect((await get("/_ctrl/health", "localhost")).status).toBe(200);
}

describe("request targets", () => {
  it.each([
    ["http://evil.example/", 400],
    ["http://127.0.0.1:9070/deployments", 400],
    ["*", 400],
    ["//", 200],
    ["/%zz/..%2f..", 200],
    ["/../../etc/passwd", 200],
  ])("GET %s on a routed host → %i", async (target, status) => {
    expect((await get(target)).status).toBe(status);
    await expectHealthy();
  });
});

describe("seeded fuzz", () => {
  it("survives 3000 random and malformed requests with no 5xx", { timeout: 120_000 }, async () => {
    const requests = fuzzRequests(0x66726f6e, 3000, {
      hosts: [routedHost, routedHost, "localhost", "unknown.example"],
      paths: ["/", "/_ctrl/health", "/.well-known/acme-challenge/abc", "/api/x?y=1"],
    });
    const replies = await fireRequests(port, requests);
    const tally = tallyReplies(replies);
    const bad = replies.flatMap((r, i) =>
      (r.status !== undefined && r.status >= 500) || r.timedOut || (r.status === undefined && r.bytes.length > 0)
        ? [{ i, request: requests[i]!.subarray(0, 300).toString("latin1"), reply: r.bytes.subarray(0, 300).toString("latin1") }]
        : [],
    );
    expect(bad, JSON.stringify(tally)).toEqual([]);
    expect(tally["200"] ?? 0, JSON.stringify(tally)).toBeGreaterThan(100);
    await expectHealthy();
  });
});

describe("oversized bodies", () => {
  it.each(["content-length", "chunked"] as const)(
    "a 20 MB POST (%s) to a routed host is 413 at the 1 MiB limit without buffering it",
    async (framing) => {
      const result = await sendLargeBody({
        port,
        path: "/upload",
        headers: [`Host: ${routedHost}`],
        totalBytes: 20 * 1024 * 1024,
        framing,
      });
      expect(result.status, result.reply.slice(0, 200)).toBe(413);
      expect(result.peakRssGrowth).toBeLessThan(8 * 1024 * 1024);
      await expectHealthy();
    },
  );
});
