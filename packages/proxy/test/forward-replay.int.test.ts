/**
 * forwardRequest's retry rule against real sockets: when an upstream resets the connection after it
 * received the request, only a bodiless idempotent request goes to the next upstream. A request
 * with a body, or a non-idempotent one, may already have done its work at the first upstream, so it
 * is never replayed to a second one: the client gets a 502 and the second upstream sees nothing.
 * A refused connection (nothing reached any app) is retried for every method.
 */
import { freePort, waitFor } from "@ctrl/testing";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUpstreamPool, forwardRequest, upstreamRequestHeaders } from "../src/index.js";

/** Reads a whole request head (and whatever body came with it), then resets the connection. */
let resetter: NetServer;
let resetterAddress: string;
const resetterSaw: string[] = [];
/** A healthy upstream that records every request the moment its head arrives, and its body at the end. */
let healthy: Server;
let healthyAddress: string;
const healthyArrivals: string[] = [];
const healthySaw: string[] = [];
let proxy: Server;
let proxyUrl: string;
/** The upstreams the next proxied request tries, in order. */
let plan: string[] = [];
/** A fresh upstream pool per request: closing it after the answer settles every upstream connection. */
let dispatcher = createUpstreamPool({ connectTimeoutMs: 1_000 });

beforeAll(async () => {
  resetter = createNetServer((socket: Socket) => {
    let head = "";
    socket.on("data", (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      resetterSaw.push(head.split("\r\n")[0]!);
      socket.resetAndDestroy(); // a TCP RST after the request arrived: it may have been processed
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((r) => resetter.listen(0, "127.0.0.1", r));
  resetterAddress = `127.0.0.1:${(resetter.address() as { port: number }).port}`;

  healthy = createHttpServer((req, res) => {
    healthyArrivals.push(`${req.method} ${req.url}`);
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      healthySaw.push(`${req.method} ${req.url} ${body}`);
      res.end("healthy");
    });
  });
  await new Promise<void>((r) => healthy.listen(0, "127.0.0.1", r));
  healthyAddress = `127.0.0.1:${(healthy.address() as { port: number }).port}`;

  proxy = createHttpServer((req, res) => {
    void forwardRequest({
      dispatcher,
      req,
      res,
      headers: upstreamRequestHeaders(req.headers, { clientIp: "127.0.0.1", proto: "http", host: "app.test", trustForwarded: false }),
      nextUpstream: (attempt) => plan[attempt],
      maxAttempts: 3,
      maxBodyBytes: 1024 * 1024,
      headersTimeoutMs: 5_000,
      bodyTimeoutMs: 5_000,
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});

afterAll(async () => {
  proxy?.closeAllConnections();
  healthy?.closeAllConnections();
  await Promise.all([proxy, healthy, resetter].map((s) => new Promise((r) => (s ? s.close(r) : r(undefined)))));
  // send() already closed the last pool; only a pool a failed test left open needs closing here.
  await dispatcher.close().catch((err: Error) => {
    if (err.name !== "ClientDestroyedError" && err.name !== "ClientClosedError") throw err;
  });
});

async function send(method: string, path: string, body?: string) {
  resetterSaw.length = 0;
  healthySaw.length = 0;
  healthyArrivals.length = 0;
  dispatcher = createUpstreamPool({ connectTimeoutMs: 1_000 });
  const res = await request(`${proxyUrl}${path}`, { method: method as "GET", ...(body !== undefined ? { body } : {}) });
  const answer = { status: res.statusCode, body: await res.body.text() };
  // The client's answer can overtake a replay still on its way to the healthy upstream: close the
  // pool and wait until the upstream has no connection left, so anything sent to it has arrived.
  await dispatcher.close();
  await waitFor(
    "the healthy upstream to have no open connection",
    () => new Promise<boolean>((r) => healthy.getConnections((_e, n) => r(n === 0))),
    { timeoutMs: 5_000, intervalMs: 5 },
  );
  return answer;
}

describe("forwardRequest after a connection reset", () => {
  it.each([
    ["POST with a body", "POST", "payment-1"],
    ["PUT with a body (idempotent, but its body may have been applied)", "PUT", "state-2"],
    ["POST without a body", "POST", undefined],
    ["PATCH without a body", "PATCH", undefined],
  ])("never replays a %s to the second upstream", async (_name, method, body) => {
    plan = [resetterAddress, healthyAddress];
    const res = await send(method, `/charge/${method}`, body);
    // The first upstream did receive it (so the reset is the case under test, not a refusal)...
    await waitFor("the resetting upstream to see the request", () => resetterSaw.length === 1, { timeoutMs: 5_000, intervalMs: 5 });
    expect(resetterSaw[0]).toBe(`${method} /charge/${method} HTTP/1.1`);
    // ...and the second never did, not even its head; the client learns it failed.
    expect(res.status).toBe(502);
    expect(healthyArrivals).toEqual([]);
  });

  it("does retry a bodiless GET on the next upstream (the rule distinguishes, it does not refuse all)", async () => {
    plan = [resetterAddress, healthyAddress];
    const res = await send("GET", "/page");
    expect(resetterSaw).toEqual(["GET /page HTTP/1.1"]);
    expect(res).toEqual({ status: 200, body: "healthy" });
    expect(healthySaw).toEqual(["GET /page "]);
  });

  it("retries a POST with a body when the first upstream refused the connection (nothing reached it)", async () => {
    plan = [`127.0.0.1:${await freePort()}`, healthyAddress];
    const res = await send("POST", "/charge", "payment-3");
    expect(res).toEqual({ status: 200, body: "healthy" });
    expect(healthySaw).toEqual(["POST /charge payment-3"]);
  });
});
