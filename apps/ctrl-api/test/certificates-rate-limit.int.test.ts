/**
 * Rate limits become durable sleeps: a proxy with Pebble's own TLS identity sits between the worker
 * and Pebble and answers the first new-order request with 429 + `Retry-After: 2` (what Let's Encrypt
 * does). The issuance must not fail: the workflow journals a sleep of Retry-After (visible in
 * Restate's journal) and the repeated order succeeds.
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
      proxy = await startRateLimitingProxy(pebble, { limitOrder: (n) => n === 0, retryAfterSeconds: 2 });
      return proxy.url;
    },
  });
});

afterAll(async () => {
  proxy?.close();
  await cs?.close();
});

it("sleeps durably for Retry-After on a rate limit, then issues", async () => {
  const res = await fetch(`${cs.stack.apiUrl}/v2/deploy.addCustomDomain`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${cs.stack.seed.rootKey}` },
    body: JSON.stringify({ projectId: cs.stack.seed.projectId, environmentSlug: "production", domain: "limited.example.test" }),
  });
  expect(res.status).toBe(201);
  await cs.publishVerification("limited.example.test");
  const challenge = await waitFor(
    "limited.example.test verified",
    async () => {
      const c = await cs.stack.database.db.selectFrom("acme_challenges").selectAll().executeTakeFirstOrThrow();
      if (c.status === "failed") throw new Error(`failed: ${c.error_message}`);
      return c.status === "verified" ? c : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  expect(challenge.error_message).toBeNull();

  const orders = proxy!.seen.filter((s) => s.path === "/order-plz");
  expect(orders.map((o) => o.status)).toEqual([429, 201]);

  // The wait is a Restate sleep in the invocation's journal (durable), followed by the retried step.
  const query = await fetch(`${cs.stack.restate.adminUrl}/query`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({
      query:
        "SELECT j.entry_type, j.name FROM sys_journal j JOIN sys_invocation i ON i.id = j.id WHERE i.target_handler_name = 'processChallenge' ORDER BY j.index",
    }),
  });
  expect(query.status).toBe(200);
  const rows = ((await query.json()) as { rows: { entry_type: string; name: string | null }[] }).rows;
  const names = rows.map((r) => `${r.entry_type}:${r.name ?? ""}`);
  const sleep = rows.findIndex((r) => /sleep/i.test(r.entry_type));
  const retried = rows.findIndex((r) => r.name === "order (after rate limit 1)");
  expect(sleep, names.join("\n")).toBeGreaterThan(-1);
  expect(retried, names.join("\n")).toBeGreaterThan(sleep);
});
