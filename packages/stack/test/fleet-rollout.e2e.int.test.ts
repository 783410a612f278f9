// Long because every fleet-rollout case runs on one fleet of 20+ sentinels started by real agents, which takes most of a minute.
/**
 * Fleet rollouts of the sentinel image end to end (issue 12): real MariaDB, restate-server,
 * s3rver, ctrl-api in-process, the worker as a real child process (so it can be SIGKILLed), two
 * real krane agents (regions r1, r2) running 20 real sentinels (10 environments × 2 regions) from
 * packed artifacts. Outcomes are checked on each sentinel's own `/_ctrl/health` (the image it
 * runs), on the fleet API, and on a webhook receiver that counts every notification.
 *
 * Guarantees: default waves have the specified sizes and every sentinel ends on the new image,
 * each webhook sent once; a failure in wave 2 pauses after that wave (wave 1 keeps the new image),
 * resume skips and resume --retry-failed retries; pause and cancel take effect mid-wave;
 * rollbackAll restores every changed sentinel, failed ones included; a SIGKILLed worker mid-wave
 * and mid-rollback finishes with consistent state, every webhook sent once (none lost, none
 * repeated) and no second deploy of a step; invalid input, a second rollout, a foreign key and a workspace key are refused precisely.
 */
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { formatArtifactRef, packDirectory, uploadArtifact } from "@ctrl/artifact";
import { stackTransport, startTestStack, type TestStack } from "@ctrl/ctrl-api/testing";
import { allocateVersion, createRootKey } from "@ctrl/db";
import { startAgent, stopAgentsAndInstances, type AgentProcess } from "@ctrl/krane/testing";
import { SentinelRolloutService, type FleetRollout } from "@ctrl/proto";
import { bundleSentinel } from "@ctrl/sentinel/bundle";
import { packSentinelArtifact } from "@ctrl/sentinel/pack";
import { startWorkerProcess, waitFor, type WorkerProcess } from "@ctrl/testing";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const workerEntry = join(repoRoot, "apps/ctrl-worker/src/main.ts");
const regions = ["r1", "r2"];
const environmentsPerRegion = 10;

let stack: TestStack;
let worker: WorkerProcess;
let workerPorts: { port: number; healthPort: number };
const agents: AgentProcess[] = [];
const agentDirs: string[] = [];
let work: string;
let fleet: Client<typeof SentinelRolloutService>;
let images: { v1: string; v2: string; flaky: string };
let sentinelIds: string[] = [];
let webhook: {
  server: Server;
  url: string;
  events: Array<{ id: string; seq: number; event: string; rollout_id: string; wave?: number; failures?: unknown[] }>;
};

async function startWorker(): Promise<WorkerProcess> {
  const w = await startWorkerProcess({
    entry: workerEntry,
    name: "fleet-worker",
    ...(workerPorts ?? {}),
    env: {
      DATABASE_URL: stack.database.url,
      RESTATE_ADMIN_URL: stack.restate.adminUrl,
      RESTATE_INGRESS_URL: stack.restate.ingressUrl,
      RESTATE_IDENTITY_KEYS: stack.restate.identityKeys.join(","),
      RESTATE_REGISTRATION_CHECK_MS: "0",
      S3_ENDPOINT: stack.s3.endpoint,
      S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
      BUILD_BACKEND: "none",
      SENTINEL_DEPLOY_TIMEOUT_MS: "60000",
      ROLLOUT_WEBHOOK_MAX_ATTEMPTS: "3",
      LOG_LEVEL: "warn",
      RESTATE_LOGGING: "ERROR",
    },
    onLine: process.env.TEST_WORKER_OUTPUT ? (line) => console.log(`[worker] ${line}`) : undefined,
  });
  workerPorts = { port: w.port, healthPort: w.healthPort };
  await w.waitHealthy(60_000);
  return w;
}

/** An artifact that runs the sentinel in r1 and exits with code 3 in r2: "fails health in wave 2". */
async function packFlaky(): Promise<string> {
  const dir = await bundleSentinel(join(work, "flaky"));
  await writeFile(
    join(dir, "start.cjs"),
    `if (process.env.CTRL_REGION === "r2") { console.error("flaky: refusing to start in r2"); process.exit(3); }\nrequire("./sentinel.cjs");\n`,
  );
  await writeFile(join(dir, "ctrl.json"), JSON.stringify({ start: ["node", "start.cjs"], healthPath: "/_ctrl/health" }));
  const archive = join(work, "flaky.tar.gz");
  const { sha256 } = await packDirectory(dir, archive);
  return formatArtifactRef(await uploadArtifact(stack.storage, `sentinel-flaky/${sha256}.tar.gz`, archive));
}

/** Inserts the fleet's sentinel rows, versioned like VersioningService does. */
async function insertSentinels(image: string): Promise<string[]> {
  const ids: string[] = [];
  const now = Date.now();
  for (const region of regions) {
    for (let e = 0; e < environmentsPerRegion; e++) {
      const id = `se_fleet_${region}_${String(e).padStart(2, "0")}`;
      await stack.database.db.transaction().execute(async (trx) => {
        const version = await allocateVersion(trx, region);
        await trx
          .insertInto("sentinels")
          .values({
            id,
            workspace_id: stack.seed.workspaceId,
            project_id: stack.seed.projectId,
            environment_id: `env_fleet_${String(e).padStart(2, "0")}`,
            region,
            k8s_name: `sentinel-fleet-${region}-${e}`,
            image,
            desired_replicas: 1,
            desired_state: "running",
            cpu_millicores: 100,
            memory_mib: 128,
            health: "unknown",
            available_replicas: 0,
            running_image: null,
            addresses: null,
            version,
            created_at: now,
            updated_at: now,
          })
          .execute();
      });
      ids.push(id);
    }
  }
  return ids;
}

/** The image each sentinel says it runs on its own health endpoint (undefined: not answering). */
async function reportedImages(): Promise<Map<string, string | undefined>> {
  const rows = await stack.database.db.selectFrom("sentinels").select(["id", "addresses"]).where("id", "in", sentinelIds).execute();
  const out = new Map<string, string | undefined>();
  await Promise.all(
    rows.map(async (r) => {
      const addresses = r.addresses ? (JSON.parse(r.addresses) as string[]) : [];
      let image: string | undefined;
      for (const a of addresses) {
        try {
          const health = (await (await fetch(`http://${a}/_ctrl/health`, { signal: AbortSignal.timeout(2_000) })).json()) as {
            image?: string;
            sentinelId?: string;
          };
          if (health.sentinelId === r.id) image = health.image;
        } catch {
          /* replaced meanwhile */
        }
      }
      out.set(r.id, image);
    }),
  );
  return out;
}

async function waitAllOn(image: string, ids = sentinelIds, timeoutMs = 90_000): Promise<void> {
  await waitFor(
    `sentinels ${ids.length} to report ${image} on /_ctrl/health`,
    async () => {
      const seen = await reportedImages();
      const off = ids.filter((id) => seen.get(id) !== image);
      if (off.length) throw new Error(`${off.length} not yet: ${off.slice(0, 3).join(", ")}`);
      return true;
    },
    { timeoutMs, intervalMs: 300 },
  );
}

async function current(): Promise<FleetRollout> {
  return (await fleet.getRollout({})).rollout!;
}

async function waitRollout(what: string, check: (r: FleetRollout) => boolean, timeoutMs = 120_000): Promise<FleetRollout> {
  return waitFor(
    what,
    async () => {
      const r = await current();
      if (check(r)) return r;
      throw new Error(
        `state ${r.state}, ${r.succeeded} ok, ${r.failed} failed, ${r.deploying} deploying, ${r.pending} pending; failures: ${r.targets
          .filter((t) => t.outcome === "failed")
          .map((t) => `${t.sentinelId} ${t.reason}: ${t.message}`)
          .join("; ")}`,
      );
    },
    { timeoutMs, intervalMs: 150 },
  );
}

async function expectCode(promise: Promise<unknown>, code: Code, message?: RegExp): Promise<ConnectError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "the call should have failed").toBeInstanceOf(ConnectError);
  expect(Code[(err as ConnectError).code]).toBe(Code[code]);
  if (message) expect((err as ConnectError).rawMessage).toMatch(message);
  return err as ConnectError;
}

function eventsOf(rolloutId: string) {
  return webhook.events.filter((e) => e.rollout_id === rolloutId);
}

/**
 * Every notification of the rollout arrived exactly once, numbered 1..N with none missing — also
 * across a SIGKILL of the worker: the notifier's delivery record in MySQL keeps a replayed delivery
 * step from POSTing again (ctrl-api's fleet-webhooks-crash test places kills exactly after the 2xx
 * before the journal entry, and mid-POST).
 */
function expectEachOnce(rolloutId: string): void {
  const events = eventsOf(rolloutId);
  expect(new Set(events.map((e) => e.id)).size, `a notification of ${rolloutId} arrived twice`).toBe(events.length);
  expect(events.map((e) => e.seq).sort((a, b) => a - b)).toEqual(events.map((_, i) => i + 1));
}

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  work = await mkdtemp(join(tmpdir(), "ctrl-fleet-"));
  const [v1, v2, flaky] = await Promise.all([
    packSentinelArtifact(stack.storage, "fleet-v1"),
    packSentinelArtifact(stack.storage, "fleet-v2"),
    packFlaky(),
  ]);
  images = { v1, v2, flaky };
  webhook = await new Promise((resolve) => {
    const events: typeof webhook.events = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        events.push(JSON.parse(body) as (typeof events)[number]);
        res.writeHead(200).end("ok");
      });
    });
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/secret-path`, events }),
    );
  });
  sentinelIds = await insertSentinels(images.v1);
  worker = await startWorker();
  const portBase = 31_000 + (process.pid % 100) * 120;
  for (const [i, region] of regions.entries()) {
    const dataDir = await mkdtemp(join(tmpdir(), `ctrl-fleet-krane-${region}-`));
    agentDirs.push(dataDir);
    agents.push(
      await startAgent({
        apiUrl: stack.apiUrl,
        token: await stack.agentToken(region, { ports: { low: portBase + i * 60, high: portBase + i * 60 + 59 } }),
        region,
        dataDir,
        portRange: `${portBase + i * 60}-${portBase + i * 60 + 59}`,
        s3: { endpoint: stack.s3.endpoint, accessKeyId: stack.s3.accessKeyId, secretAccessKey: stack.s3.secretAccessKey },
        env: { LOG_LEVEL: "info", KRANE_SENTINEL_ENV: JSON.stringify({ DATABASE_URL: stack.database.url, LOG_LEVEL: "warn" }) },
      }),
    );
  }
  fleet = createClient(SentinelRolloutService, stackTransport(stack));
  await waitAllOn(images.v1, sentinelIds, 120_000);
}, 300_000);

afterAll(async () => {
  await worker?.kill().catch(() => undefined);
  await stopAgentsAndInstances(agents, agentDirs);
  await new Promise((r) => webhook?.server.close(r));
  await stack?.close();
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

describe("fleet rollouts", () => {
  it("refuses invalid input, foreign keys, workspace keys and operations illegal in the state", async () => {
    await expectCode(fleet.getRollout({}), Code.NotFound, /no fleet rollout/);
    await expectCode(fleet.pause({}), Code.FailedPrecondition, /state idle.*legal now: rollout/);
    for (const [waves, rule] of [
      [[5, 5, 100], /strictly increasing/],
      [[50, 10, 100], /strictly increasing/],
      [[0, 100], /between 1 and 100/],
      [[50, 101], /between 1 and 100/],
      [[10, 50], /end at 100/],
      [Array.from({ length: 21 }, (_, i) => 80 + i), /at most 20/],
    ] as const) {
      await expectCode(fleet.rollout({ image: images.v2, wavePercentages: [...waves] }), Code.InvalidArgument, rule);
    }
    await expectCode(fleet.rollout({ image: "not a reference!" }), Code.InvalidArgument, /image must be/);
    await expectCode(
      fleet.rollout({ image: images.v2, webhookUrl: "http://hooks.example.com/x" }),
      Code.InvalidArgument,
      /https, or http to a loopback/,
    );
    // Any key but `singleton` is refused by the worker itself; SentinelService is ingress-private.
    const call = (path: string, body: unknown) =>
      fetch(`${stack.restate.ingressUrl}/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const foreign = await call("SentinelRolloutService/other/status", null);
    expect(foreign.status).toBe(400);
    expect(await foreign.text()).toMatch(/one key, \\?"singleton/);
    const direct = await call(`SentinelService/${sentinelIds[0]}/deploy`, { image: images.v2 });
    expect(direct.status).toBeGreaterThanOrEqual(400);
    // A workspace root key, even with project.*.*, is not an operator.
    const { key } = await createRootKey(stack.database.db, {
      workspaceId: stack.seed.workspaceId,
      name: "workspace",
      permissions: ["project.*.*"],
      now: Date.now(),
    });
    const asWorkspace = createClient(
      SentinelRolloutService,
      createConnectTransport({
        baseUrl: stack.apiUrl,
        httpVersion: "1.1",
        interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${key}`), next(req))],
      }),
    );
    await expectCode(asWorkspace.rollout({ image: images.v2 }), Code.PermissionDenied, /fleet\.\*\.rollout/);
    await expectCode(asWorkspace.listRollouts({}), Code.PermissionDenied);
  }, 300_000);

  it("rolls the default waves across all 20 sentinels, each ending on the new image, every webhook once", async () => {
    const started = (await fleet.rollout({ image: images.v2, webhookUrl: webhook.url, concurrency: 10 })).rollout!;
    expect(started.total).toBe(20);
    expect(started.waves.map((w) => w.size)).toEqual([1, 0, 4, 5, 10]);
    expect(started.webhookHost).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/); // never the secret path
    await expectCode(fleet.rollout({ image: images.v1 }), Code.FailedPrecondition, new RegExp(`rollout ${started.id} is in_progress`));
    // WatchRollout streams every change and ends once the rollout is no longer active.
    const watched: string[] = [];
    for await (const event of fleet.watchRollout({ rolloutId: started.id }))
      watched.push(`${event.rollout!.state}:${event.rollout!.succeeded}`);
    expect(watched[0]).toMatch(/^in_progress:/);
    expect(watched.at(-1)).toBe("completed:20");
    expect(watched.length).toBeGreaterThan(5);
    const done = await waitRollout("the rollout to complete", (r) => r.state === "completed");
    expect(done.waves.map((w) => w.status)).toEqual(["completed", "skipped", "completed", "completed", "completed"]);
    expect(done.succeeded).toBe(20);
    await waitAllOn(images.v2);
    const rows = await stack.database.db
      .selectFrom("sentinels")
      .select(["image", "deploy_status"])
      .where("id", "in", sentinelIds)
      .execute();
    expect(rows.every((r) => r.image === images.v2 && r.deploy_status === "ready")).toBe(true);
    await waitFor("the completed webhook", () => eventsOf(started.id).some((e) => e.event === "completed"), { timeoutMs: 20_000 });
    expect(eventsOf(started.id).map((e) => e.event)).toEqual([
      "started",
      "wave_started",
      "wave_completed",
      "wave_started",
      "wave_completed",
      "wave_started",
      "wave_completed",
      "wave_started",
      "wave_completed",
      "completed",
    ]);
    expectEachOnce(started.id);
    const history = await fleet.listRollouts({});
    expect(history.rollouts[0]!.id).toBe(started.id);
  }, 300_000);

  it("pauses after the wave with a failure; resume skips; resume --retry-failed retries; rollbackAll restores all, failed included", async () => {
    // Order is region then environment: wave 1 = one r1 sentinel, wave 2 reaches 2 of r2 (which the flaky image refuses).
    const started = (await fleet.rollout({ image: images.flaky, wavePercentages: [5, 60, 100], webhookUrl: webhook.url })).rollout!;
    const paused = await waitRollout("paused after wave 2", (r) => r.state === "paused");
    expect(paused.currentWave).toBe(1);
    expect(paused.pausedReason).toBe("failures");
    const failed = paused.targets.filter((t) => t.outcome === "failed");
    expect(failed.map((t) => t.sentinelId)).toEqual(["se_fleet_r2_00", "se_fleet_r2_01"]);
    expect(failed.every((t) => t.reason === "start_failed" && t.exitCode === 3)).toBe(true);
    expect(paused.targets.filter((t) => t.wave > 1).every((t) => t.outcome === "pending")).toBe(true);
    const pausedEvent = eventsOf(started.id).find((e) => e.event === "paused");
    expect(pausedEvent?.failures).toHaveLength(2);
    // Wave 1 and the r1 part of wave 2 keep the new image; the failed ones still serve the old one.
    await waitAllOn(
      images.flaky,
      paused.targets.filter((t) => t.outcome === "succeeded").map((t) => t.sentinelId),
    );
    await waitAllOn(images.v2, ["se_fleet_r2_00", "se_fleet_r2_01"]);

    await fleet.resume({});
    const again = await waitRollout("paused after wave 3", (r) => r.state === "paused" && r.currentWave === 2);
    expect(again.targets.filter((t) => t.outcome === "skipped").map((t) => t.sentinelId)).toEqual(["se_fleet_r2_00", "se_fleet_r2_01"]);
    expect(again.failed).toBe(8);

    await fleet.resume({ retryFailed: true });
    const retried = await waitRollout("paused after the retry", (r) => r.state === "paused" && r.deploying === 0 && r.pending === 0);
    expect(retried.failed).toBe(10);
    const status = await fetch(`${stack.restate.ingressUrl}/SentinelRolloutService/singleton/status`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "null",
    });
    const state = (await status.json()) as { targets: Array<{ sentinelId: string; step: number }> };
    expect(state.targets.filter((t) => t.sentinelId.startsWith("se_fleet_r2_")).every((t) => t.step === 2)).toBe(true);

    const { reverted } = await fleet.rollbackAll({});
    expect(reverted).toBe(20);
    await expectCode(fleet.pause({}), Code.FailedPrecondition, /rolling_back|rolled_back/);
    const back = await waitRollout("rolled back", (r) => r.state === "rolled_back");
    expect(back.reverted).toBe(20);
    await waitAllOn(images.v2);
    const rows = await stack.database.db.selectFrom("sentinels").select("image").where("id", "in", sentinelIds).execute();
    expect(rows.every((r) => r.image === images.v2)).toBe(true);
    await waitFor("the rollback_completed webhook", () => eventsOf(started.id).some((e) => e.event === "rollback_completed"), {
      timeoutMs: 20_000,
    });
    expectEachOnce(started.id);
  }, 300_000);

  it("a pause between waves holds the next wave until resume", async () => {
    await fleet.rollout({ image: images.v1, wavePercentages: [10, 100], concurrency: 2 });
    // Both sentinels of wave 1 are in flight (each takes seconds); the pause lands before the wave ends.
    const atPause = (await fleet.pause({})).rollout!;
    expect(atPause.currentWave).toBe(0);
    const held = await waitRollout("wave 1 to finish while paused", (r) => r.deploying === 0 && r.succeeded === 2);
    expect(held.state).toBe("paused");
    expect(held.waves[1]!.status).toBe("pending");
    expect(held.targets.filter((t) => t.wave === 1).every((t) => t.outcome === "pending")).toBe(true);
    await fleet.resume({});
    await waitRollout("the rollout to complete after resume", (r) => r.state === "completed");
    await waitAllOn(images.v1);
  }, 300_000);

  it("pause and cancel take effect mid-wave; no deploy starts after them", async () => {
    // A webhook that refuses every connection: retried a bounded number of times, never blocking the rollout.
    const started = (
      await fleet.rollout({ image: images.v2, wavePercentages: [100], concurrency: 2, webhookUrl: "http://127.0.0.1:9/refused" })
    ).rollout!;
    await waitRollout("two sentinels done", (r) => r.succeeded >= 2);
    const atPause = (await fleet.pause({})).rollout!;
    const begunAtPause = atPause.targets.filter((t) => t.outcome !== "pending").map((t) => t.sentinelId);
    const settled = await waitRollout("in-flight deploys to finish", (r) => r.deploying === 0);
    expect(settled.state).toBe("paused");
    expect(settled.targets.filter((t) => t.outcome !== "pending").map((t) => t.sentinelId)).toEqual(begunAtPause);
    expect(begunAtPause.length).toBeLessThan(20);

    await fleet.resume({});
    await waitRollout("more progress after resume", (r) => r.succeeded >= begunAtPause.length + 2);
    const atCancel = (await fleet.cancel({})).rollout!;
    expect(atCancel.state).toBe("cancelled");
    const begunAtCancel = atCancel.targets.filter((t) => t.outcome !== "pending").map((t) => t.sentinelId);
    const after = await waitRollout("in-flight deploys to finish after cancel", (r) => r.deploying === 0);
    expect(after.state).toBe("cancelled");
    expect(after.targets.filter((t) => t.outcome !== "pending").map((t) => t.sentinelId)).toEqual(begunAtCancel);
    const untouched = after.targets.filter((t) => t.outcome === "pending").map((t) => t.sentinelId);
    expect(untouched.length).toBeGreaterThan(0);
    const rows = await stack.database.db.selectFrom("sentinels").select("image").where("id", "in", untouched).execute();
    expect(rows.every((r) => r.image === images.v1)).toBe(true);

    const { reverted } = await fleet.rollbackAll({});
    expect(reverted).toBe(begunAtCancel.length);
    await waitRollout("rolled back", (r) => r.state === "rolled_back");
    await waitAllOn(images.v1);
    expect(started.id).toBe(after.id);
  }, 300_000);

  it("a worker SIGKILLed mid-wave and mid-rollback finishes: consistent state, every webhook once, one deploy per step", async () => {
    const started = (await fleet.rollout({ image: images.v2, wavePercentages: [25, 100], concurrency: 3, webhookUrl: webhook.url }))
      .rollout!;
    await waitRollout("wave 2 under way", (r) => r.currentWave === 1 && r.deploying > 0);
    // Killed between two notifications: no POST is in flight (a kill mid-POST is placed precisely in
    // ctrl-api's fleet-webhooks-crash test), so every notification must arrive exactly once.
    await waitFor("wave 2's wave_started webhook", () => eventsOf(started.id).some((e) => e.event === "wave_started" && e.wave === 1), {
      timeoutMs: 30_000,
    });
    await worker.kill();
    worker = await startWorker();
    const done = await waitRollout("the rollout to complete after the crash", (r) => r.state === "completed", 180_000);
    expect(done.succeeded).toBe(20);
    await waitAllOn(images.v2);
    const status = await fetch(`${stack.restate.ingressUrl}/SentinelRolloutService/singleton/status`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "null",
    });
    const state = (await status.json()) as { targets: Array<{ step: number }> };
    expect(state.targets.every((t) => t.step === 1)).toBe(true);
    await waitFor("the completed webhook", () => eventsOf(started.id).some((e) => e.event === "completed"), { timeoutMs: 30_000 });
    expectEachOnce(started.id);

    const second = (await fleet.rollout({ image: images.v1, wavePercentages: [100], concurrency: 2, webhookUrl: webhook.url })).rollout!;
    await waitRollout("some progress", (r) => r.succeeded >= 4);
    await fleet.pause({});
    const { reverted } = await fleet.rollbackAll({});
    await waitFor("the rollback_started webhook", () => eventsOf(second.id).some((e) => e.event === "rollback_started"), {
      timeoutMs: 30_000,
    });
    await worker.kill();
    worker = await startWorker();
    const back = await waitRollout("rolled back after the crash", (r) => r.state === "rolled_back", 180_000);
    expect(back.reverted).toBe(reverted);
    await waitAllOn(images.v2);
    await waitFor("the rollback_completed webhook", () => eventsOf(second.id).some((e) => e.event === "rollback_completed"), {
      timeoutMs: 30_000,
    });
    expectEachOnce(second.id);
  }, 400_000);
});
