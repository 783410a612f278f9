/**
 * ACME gives up on a rate limit that never lifts: a proxy with Pebble's own TLS identity sits between
 * the worker and Pebble and answers every new-order request with 429 + `Retry-After: 1`. The
 * issuance sleeps durably after each one, and after MAX_RATE_LIMIT_WAITS (10, process-challenge.ts)
 * waits it stops: the challenge is `failed` with a reason that says so, and no further order is sent.
 */
import { waitFor } from "@ctrl/testing";
import { createServer, request, type Server } from "node:https";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startCertStack, type CertStack } from "./cert-harness.js";

let cs: CertStack;
let proxy: Server;
const seen: { method: string; path: string; status: number }[] = [];
let limited = 0;

beforeAll(async () => {
  cs = await startCertStack({
    directoryUrl: async (pebble) => {
      const upstream = new URL(pebble.directoryUrl);
      proxy = createServer({ cert: pebble.caPem, key: pebble.tlsKeyPem }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const path = req.url ?? "/";
          if (req.method === "POST" && path === "/order-plz") {
            limited++;
            seen.push({ method: "POST", path, status: 429 });
            const body = JSON.stringify({
              type: "urn:ietf:params:acme:error:rateLimited",
              detail: "too many new orders recently",
              status: 429,
            });
            res.writeHead(429, {
              "content-type": "application/problem+json",
              "retry-after": "1",
              "content-length": Buffer.byteLength(body),
            });
            return res.end(body);
          }
          // Pebble builds its URLs (and checks JWS urls) from the Host header: keep the proxy's.
          const up = request(
            { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers, ca: pebble.caPem },
            (upRes) => {
              seen.push({ method: req.method ?? "", path, status: upRes.statusCode ?? 0 });
              res.writeHead(upRes.statusCode ?? 502, upRes.headers);
              upRes.pipe(res);
            },
          );
          up.on("error", () => res.writeHead(502).end());
          up.end(Buffer.concat(chunks));
        });
      });
      await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
      return `https://127.0.0.1:${(proxy.address() as { port: number }).port}/dir`;
    },
  });
});

afterAll(async () => {
  proxy?.close();
  await cs?.close();
});

/** MAX_RATE_LIMIT_WAITS in apps/ctrl-worker/src/services/certificate/process-challenge.ts. */
const maxRateLimitWaits = 10;

it("gives up after the configured number of rate-limit waits, with the reason on the challenge", async () => {
  const res = await fetch(`${cs.stack.apiUrl}/v2/deploy.addCustomDomain`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${cs.stack.seed.rootKey}` },
    body: JSON.stringify({ projectId: cs.stack.seed.projectId, environmentSlug: "production", domain: "forever-limited.example.test" }),
  });
  expect(res.status).toBe(201);
  // Ownership first: nothing goes to ACME before the claim's TXT record is seen.
  await cs.publishVerification("forever-limited.example.test");
  const challenge = await waitFor(
    "forever-limited.example.test to fail",
    async () => {
      const c = await cs.stack.database.db.selectFrom("acme_challenges").selectAll().executeTakeFirstOrThrow();
      if (c.status === "verified") throw new Error("verified although every order was rate limited");
      return c.status === "failed" ? c : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
  expect(challenge.error_message).toBe(`order: still rate limited after ${maxRateLimitWaits} waits`);
  // The first order plus one per wait, then nothing more.
  expect(seen.filter((s) => s.path === "/order-plz").map((s) => s.status)).toEqual(
    Array.from({ length: maxRateLimitWaits + 1 }, () => 429),
  );
  expect(limited).toBe(maxRateLimitWaits + 1);
  expect(await cs.stack.database.db.selectFrom("certificates").select("id").execute()).toEqual([]);
}, 120_000);
