/**
 * Crash guarantee of certificate issuance: the worker is a real child process, SIGKILLed (by pid)
 * while Pebble is validating the HTTP-01 challenge. After a restart the same invocation resumes from
 * its journal and completes with exactly one certificate, one ACME account and the key encrypted.
 */
import { startWorkerProcess, waitFor, type WorkerProcess } from "@ctrl/testing";
import { vaultContext } from "@ctrl/vault";
import { createPublicKey, X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startCertStack, type CertStack } from "./cert-harness.js";

const entry = fileURLToPath(new URL("../../ctrl-worker/src/main.ts", import.meta.url));
let cs: CertStack;
let dir: string;
let worker: WorkerProcess | undefined;
let releaseChallenge!: () => void;
const challengeHeld = new Promise<void>((resolve) => (releaseChallenge = resolve));
let challengeRequested = false;

beforeAll(async () => {
  cs = await startCertStack({
    worker: false,
    // Pebble's validation request is held until the worker has been killed.
    beforeChallengeAnswer: async () => {
      challengeRequested = true;
      await challengeHeld;
    },
  });
  dir = await mkdtemp(join(tmpdir(), "ctrl-cert-crash-"));
  await writeFile(join(dir, "pebble-ca.pem"), cs.pebble.caPem);
});

afterAll(async () => {
  releaseChallenge?.();
  await worker?.stop(2_000).catch(() => undefined);
  await cs?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("SIGKILL of the worker mid-issuance: it completes afterwards with one certificate", async () => {
  const env = cs.workerEnv(join(dir, "pebble-ca.pem"));
  worker = await startWorkerProcess({ entry, env, name: "ctrl-worker" });
  await worker.waitHealthy();

  const res = await fetch(`${cs.stack.apiUrl}/v2/deploy.addCustomDomain`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${cs.stack.seed.rootKey}` },
    body: JSON.stringify({ projectId: cs.stack.seed.projectId, environmentSlug: "production", domain: "crash.example.test" }),
  });
  expect(res.status).toBe(201);
  await cs.publishVerification("crash.example.test");

  // Mid-issuance: the order exists, the challenge token is stored, Pebble is fetching it right now.
  await waitFor("Pebble to request the challenge", () => challengeRequested, { timeoutMs: 60_000 });
  const pending = await cs.stack.database.db.selectFrom("acme_challenges").selectAll().executeTakeFirstOrThrow();
  expect(pending.status).toBe("pending");
  expect(pending.token).not.toBeNull();
  const port = worker.port;
  await worker.kill();
  expect(worker.process.child.signalCode).toBe("SIGKILL");
  expect(await cs.stack.database.db.selectFrom("certificates").select("id").execute()).toHaveLength(0);

  releaseChallenge();
  worker = await startWorkerProcess({ entry, env, port, name: "ctrl-worker (restarted)" });
  await worker.waitHealthy();

  const done = await waitFor(
    "the challenge to be verified after the restart",
    async () => {
      const c = await cs.stack.database.db.selectFrom("acme_challenges").selectAll().executeTakeFirstOrThrow();
      if (c.status === "failed") throw new Error(`failed: ${c.error_message}`);
      return c.status === "verified" ? c : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 200 },
  );
  expect(done.error_message).toBeNull();

  const certs = await cs.stack.database.db.selectFrom("certificates").selectAll().execute();
  expect(certs).toHaveLength(1);
  expect(certs[0]!.hostname).toBe("crash.example.test");
  const key = cs.vault.decryptString(certs[0]!.encrypted_private_key, vaultContext.certificateKey("crash.example.test"));
  expect(new X509Certificate(certs[0]!.certificate).publicKey.export({ format: "pem", type: "spki" })).toBe(
    createPublicKey(key).export({ format: "pem", type: "spki" }),
  );
  expect(await cs.stack.database.db.selectFrom("acme_users").select("id").execute()).toHaveLength(1);
  // Each worker start kicked off today's renewal run; it ran once (the day is kept in its state,
  // the kick-off carries an idempotency key).
  const today = Math.floor(Date.now() / 86_400_000);
  await waitFor(
    "the renewal job's state for today",
    async () => {
      const res = await fetch(`${cs.stack.restate.adminUrl}/query`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({
          query: "SELECT value_utf8 FROM state WHERE service_name = 'CertificateService' AND service_key = 'global' AND key = 'lastRunDay'",
        }),
      });
      const rows = ((await res.json()) as { rows?: { value_utf8: string }[] }).rows ?? [];
      return rows.length === 1 && Number(rows[0]!.value_utf8) === today;
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  // "Once", from what a second run would leave behind: the job's invocations settle with exactly one
  // delayed send for tomorrow (every real run schedules the next day, so two runs fork the chain).
  const renewals = await waitFor(
    "the renewal invocations to settle",
    async () => {
      const res = await fetch(`${cs.stack.restate.adminUrl}/query`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({
          query:
            "SELECT status, COUNT(*) AS n FROM sys_invocation WHERE target_service_name = 'CertificateService' AND target_service_key = 'global' AND target_handler_name = 'renewExpiring' GROUP BY status",
        }),
      });
      const rows = ((await res.json()) as { rows?: { status: string; n: number }[] }).rows ?? [];
      const byStatus = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
      return Object.keys(byStatus).every((status) => status === "scheduled" || status === "completed") ? byStatus : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  expect(renewals.scheduled).toBe(1);
  // Nothing in the worker's output ever contained a private key.
  expect(worker.lines().join("\n")).not.toContain("PRIVATE KEY");
});
