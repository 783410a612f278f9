/**
 * The sentinel against hostile request lines over raw sockets, with a real instance behind it.
 * Guarantees: non-path targets are 400 (never handed to undici, which answered 502); a few thousand
 * seeded random/malformed requests — with and without the deployment header, so forwarding runs —
 * get no 5xx and /_ctrl/health still answers; a 20 MB body is 413 at the limit without buffering.
 */
import { createServer, type Server } from "node:http";
import { createUpstreamPool } from "@ctrl/proxy";
import { fireRequests, fuzzRequests, rawExchange, sendLargeBody, tallyReplies } from "@ctrl/testing";
import { pino } from "pino";
import type { Dispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InstanceSource } from "../src/instance-table.js";
import { createSentinel } from "../src/sentinel.js";

const routed = "X-Ctrl-Deployment-Id: d_fuzz";
let instance: Server;
let server: Server;
let dispatcher: Dispatcher;
let port: number;

beforeAll(async () => {
  instance = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((resolve) => instance.listen(0, "127.0.0.1", resolve));
  const address = `127.0.0.1:${(instance.address() as { port: number }).port}`;
  // A fixed instance list (the handler takes any InstanceSource): one deployment, one instance.
  const instances: InstanceSource = {
    addresses: (id) => (id === "d_fuzz" ? [address] : []),
    count: () => 1,
    nextRefresh: async () => {},
    lastRefreshAt: () => Date.now(),
  };
  dispatcher = createUpstreamPool({ connectTimeoutMs: 1_000 });
  const sentinel = createSentinel({
    instances,
    dispatcher,
    logger: pino({ level: process.env.FUZZ_LOG ?? "silent" }),
    environmentId: "env_fuzz",
    sentinelId: "se_fuzz",
    settings: {
      maxBodyBytes: 1024 * 1024,
      upstreamHeadersTimeoutMs: 5_000,
      upstreamBodyTimeoutMs: 5_000,
      maxAttempts: 2,
      failureCooldownMs: 1_000,
      missWaitMs: 10,
    },
  });
  server = sentinel.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of [server, instance]) {
    s?.closeAllConnections();
    await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }
  await dispatcher?.close();
});

const get = (target: string, headers: string[] = [routed]) =>
  rawExchange(
    port,
    Buffer.from([`GET ${target} HTTP/1.1`, "Host: app.example", ...headers, "Connection: close", "", ""].join("\r\n"), "latin1"),
  );

async function expectHealthy() {
  expect((await get("/_ctrl/health", [])).status).toBe(200);
}

describe("request targets", () => {
  it.each([
    ["http://127.0.0.1:9070/deployments", 400],
    ["*", 400],
    ["//", 200],
    ["/%zz", 200],
    ["/../../etc/passwd", 200],
  ])("GET %s with the deployment header → %i", async (target, status) => {
    expect((await get(target)).status).toBe(status);
    await expectHealthy();
  });
});

describe("seeded fuzz", () => {
  it("survives 3000 random and malformed requests with no 5xx", { timeout: 120_000 }, async () => {
    const requests = fuzzRequests(0x73656e74, 3000, {
      hosts: ["app.example", "localhost"],
      paths: ["/", "/_ctrl/health", "/api?x=1"],
      headers: [routed, routed, "X-Ctrl-Deployment-Id: ../x", "X-Ctrl-Deployment-Id: d_unknown"],
    });
    const replies = await fireRequests(port, requests);
    const tally = tallyReplies(replies);
    const bad = replies.flatMap((r, i) =>
      (r.status !== undefined && r.status >= 500 && r.status !== 503) || r.timedOut || (r.status === undefined && r.bytes.length > 0)
        ? [{ i, request: requests[i]!.subarray(0, 300).toString("latin1"), reply: r.bytes.subarray(0, 300).toString("latin1") }]
        : [],
    );
    expect(bad, JSON.stringify(tally)).toEqual([]);
    expect(tally["200"] ?? 0, JSON.stringify(tally)).toBeGreaterThan(100);
    await expectHealthy();
  });
});

describe("oversized bodies", () => {
  it.each(["content-length", "chunked"] as const)("a 20 MB POST (%s) is 413 at the 1 MiB limit without buffering it", async (framing) => {
    const result = await sendLargeBody({
      port,
      path: "/upload",
      headers: ["Host: app.example", routed],
      totalBytes: 20 * 1024 * 1024,
      framing,
    });
    expect(result.status, result.reply.slice(0, 200)).toBe(413);
    expect(result.peakRssGrowth).toBeLessThan(8 * 1024 * 1024);
    await expectHealthy();
  });
});
