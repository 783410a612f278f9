/**
 * ACME gives up on a rate limit that never lifts: a proxy with Pebble's own TLS identity sits between
 * the worker and Pebble and answers every new-order request with 429 + `Retry-After: 1`. The
 * issuance sleeps durably after each one, and after MAX_RATE_LIMIT_WAITS (10, process-challenge.ts)
 * waits it stops: the challenge is `failed` with a reason that says so, and no further order is sent.
 */
import { waitFor } from "@ctrl/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startCertStack, type CertStack } from "./cert-harness.js";
import { startRateLimitingProxy, type RateLimitProxy } from "./rate-limit-proxy.js";

let cs: CertStack;
let proxy: RateLimitProxy | undefined;

beforeAll(async () => {
  cs = await startCertStack({
    directoryUrl: async (pebble) => {
      proxy = await startRateLimitingProxy(pebble, { limitOrder: () => true, retryAfterSeconds: 1 });
      return proxy.url;
    },
  });
});

afterAll(async () => {
  proxy?.close();
  await cs?.close();
});

/** MAX_RATE_LIMIT_WAITS in apps/ctrl-worker/src/services/certificate-service/process-challenge.ts. */
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
  expect(proxy!.seen.filter((s) => s.path === "/order-plz").map((s) => s.status)).toEqual(
    Array.from({ length: maxRateLimitWaits + 1 }, () => 429),
  );
  expect(proxy!.limited()).toBe(maxRateLimitWaits + 1);
  expect(await cs.stack.database.db.selectFrom("certificates").select("id").execute()).toEqual([]);
}, 120_000);
