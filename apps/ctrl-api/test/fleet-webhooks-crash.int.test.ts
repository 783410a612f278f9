/**
 * Rollout webhooks are sent once even when the worker dies mid-delivery (issue 12, "each is sent
 * exactly once, even when the worker is killed and replays").
 *
 * Real MariaDB, restate-server and ctrl-api; the worker as a child process; one acknowledging fake
 * agent per region. restate-server reaches the worker through a TCP proxy the test controls, so
 * each crash lands exactly where duplicates came from:
 *
 * 1. after the receiver's 2xx and before the delivery step's journal entry: at notification 2 the
 *    receiver stops the worker → restate direction (the journal entry cannot arrive), answers 2xx,
 *    the test waits until the worker recorded the delivery in MySQL, then SIGKILLs the worker;
 * 2. while the receiver holds the request, before any answer: at notification 4 the receiver
 *    SIGKILLs the worker first and answers afterwards (to a dead connection).
 *
 * Each time restate-server replays the step on the restarted worker, which reads the delivery
 * record and does not POST again: the receiver sees every event id exactly once. (Before the
 * record, the replay POSTed notification 2 a second time.)
 */
import { findRolloutWebhook, listRolloutWebhooks } from "@ctrl/db";
import { freePort, startWorkerProcess, waitFor, type WorkerProcess } from "@ctrl/testing";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer, connect, type Server as TcpServer, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fleetClient, insertSentinelFleet, operatorAuth, startFakeSentinelAgents } from "./fake-sentinel-agent.js";
import { startTestStack, type TestStack } from "./harness.js";

const entry = fileURLToPath(new URL("../../ctrl-worker/src/main.ts", import.meta.url));
const regions = ["r1", "r2"];
const images = { v1: "registry.test/ctrl/sentinel:v1", v2: "registry.test/ctrl/sentinel:v2", v3: "registry.test/ctrl/sentinel:v3" };
/** Crash 1 (after the 2xx, before the journal entry) at the first `wave_started`; crash 2 (before the 2xx) at the second. */
const crashAfterAnswer = 2;
const crashBeforeAnswer = 4;
let crashedBeforeAnswer = false;

let stack: TestStack;
let agents: { stop(): Promise<void> } | undefined;
let worker: WorkerProcess | undefined;
let proxy: Proxy;
let receiver: Receiver;
/** Every line any worker process printed (they come and go with the crashes). */
const workerLines: string[] = [];

/**
 * A TCP proxy in front of the worker's Restate endpoint. `holdReplies()` keeps every byte the
 * worker sends back to restate-server (journal entries, results) from arriving; `cut()` drops
 * the held bytes and every connection, as a dead worker's connections end.
 */
interface Proxy {
  url: string;
  holdReplies(): void;
  cut(): void;
  close(): Promise<void>;
}

async function startProxy(targetPort: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let holding = false;
  const server: TcpServer = createTcpServer((fromRestate) => {
    const toWorker = connect(targetPort, "127.0.0.1");
    for (const s of [fromRestate, toWorker]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    fromRestate.on("data", (c: Buffer) => toWorker.write(c));
    toWorker.on("data", (c: Buffer) => {
      if (!holding) fromRestate.write(c);
    });
    fromRestate.on("close", () => toWorker.destroy());
    toWorker.on("close", () => fromRestate.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    holdReplies() {
      holding = true;
    },
    cut() {
      dropAll();
      holding = false;
    },
    close: () => new Promise((resolve) => (dropAll(), server.close(() => resolve()))),
  };
}

/** Counts every POST by its `X-Ctrl-Event-Id`; `beforeAnswer` runs (awaited) before each 2xx. */
interface Receiver {
  url: string;
  server: Server;
  deliveries: Array<{ header: string; id: string; seq: number; event: string; rollout_id: string }>;
  /** POSTs to the failing paths. */
  failing: Array<{ url: string; id: string }>;
  /** Resolves once notification `seq` got its (first) 2xx. */
  answered(seq: number): Promise<void>;
}

async function startReceiver(beforeAnswer: (event: { seq: number }) => Promise<void>): Promise<Receiver> {
  const deliveries: Receiver["deliveries"] = [];
  const failing: Receiver["failing"] = [];
  const answers = new Map<number, { promise: Promise<void>; resolve: () => void }>();
  const answer = (seq: number) => {
    let entry = answers.get(seq);
    if (!entry) {
      let resolve!: () => void;
      entry = { promise: new Promise<void>((r) => (resolve = r)), resolve };
      answers.set(seq, entry);
    }
    return entry;
  };
  const server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", async () => {
      const event = JSON.parse(body) as Receiver["deliveries"][number];
      // Receivers that fail: /unavailable answers 503 (retried, bounded), /gone 410 (refused: not retried).
      if (req.url?.endsWith("/unavailable") || req.url?.endsWith("/gone")) {
        failing.push({ url: req.url, id: event.id });
        res.writeHead(req.url.endsWith("/gone") ? 410 : 503).end();
        return;
      }
      deliveries.push({ ...event, header: String(req.headers["x-ctrl-event-id"]) });
      await beforeAnswer(event);
      res.on("error", () => undefined);
      res.writeHead(200).end("ok", () => answer(event.seq).resolve());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/secret`,
    server,
    deliveries,
    failing,
    answered: (seq) => answer(seq).promise,
  };
}

/** SIGKILLs the worker, drops its connections, starts it again on the same ports. */
async function crashWorker(): Promise<void> {
  const { port, healthPort } = worker!;
  await worker!.kill();
  proxy.cut();
  worker = await startWorker({ port, healthPort });
}

async function startWorker(ports: { port: number; healthPort?: number }): Promise<WorkerProcess> {
  const w = await startWorkerProcess({
    entry,
    name: "fleet-webhook-worker",
    ...ports,
    env: {
      DATABASE_URL: stack.database.url,
      RESTATE_ADMIN_URL: stack.restate.adminUrl,
      RESTATE_INGRESS_URL: stack.restate.ingressUrl,
      RESTATE_IDENTITY_KEYS: stack.restate.identityKeys.join(","),
      RESTATE_REGISTRATION_CHECK_MS: "0",
      WORKER_ADVERTISED_URL: proxy.url,
      S3_ENDPOINT: stack.s3.endpoint,
      S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
      BUILD_BACKEND: "none",
      ROLLOUT_WEBHOOK_MAX_ATTEMPTS: "3",
      LOG_LEVEL: "warn",
    },
    onLine: (line) => {
      workerLines.push(line);
      if (process.env.TEST_WORKER_OUTPUT) console.log(`[worker] ${line}`);
    },
  });
  try {
    await w.waitHealthy(60_000);
  } catch (err) {
    await w.kill();
    throw err;
  }
  return w;
}

beforeAll(async () => {
  // Quick retries once the worker is back.
  stack = await startTestStack({ worker: false, restateEnv: { RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL: "500ms" } });
  await insertSentinelFleet(stack.database.db, stack.seed, 4, regions, images.v1);
  agents = startFakeSentinelAgents(stack, regions);
  const port = await freePort();
  proxy = await startProxy(port);
  receiver = await startReceiver(async (event) => {
    if (event.seq === crashAfterAnswer) proxy.holdReplies();
    if (event.seq === crashBeforeAnswer && !crashedBeforeAnswer) {
      crashedBeforeAnswer = true;
      await crashWorker();
    }
  });
  worker = await startWorker({ port });
}, 120_000);

afterAll(async () => {
  await worker?.kill().catch(() => undefined);
  await agents?.stop();
  await proxy?.close();
  await new Promise((r) => receiver?.server.close(r));
  await stack?.close();
}, 60_000);

it("a worker SIGKILLed after the 2xx before the journal entry, and before the 2xx: each notification arrives once", async () => {
  const fleet = fleetClient(stack);
  const started = (await fleet.rollout({ image: images.v2, wavePercentages: [50, 100], webhookUrl: receiver.url }, operatorAuth(stack)))
    .rollout!;

  const afterAnswerId = `${started.id}:${crashAfterAnswer}`;
  await receiver.answered(crashAfterAnswer);
  // The receiver answered 2xx and the worker recorded it; the journal entry is still held in the proxy.
  await waitFor(
    "the delivery record of notification 2",
    async () => (await findRolloutWebhook(stack.database.db, afterAnswerId))?.status === "delivered",
    { timeoutMs: 20_000, intervalMs: 20 },
  );
  await crashWorker();

  await waitFor(
    "the rollout to complete after both crashes",
    async () => (await fleet.getRollout({ rolloutId: started.id }, operatorAuth(stack))).rollout?.state === "completed",
    { timeoutMs: 120_000, intervalMs: 200 },
  );
  const expected = ["started", "wave_started", "wave_completed", "wave_started", "wave_completed", "completed"];
  await waitFor("every notification", () => receiver.deliveries.filter((d) => d.rollout_id === started.id).length >= expected.length, {
    timeoutMs: 30_000,
  });
  const records = await waitFor(
    "every delivery record",
    async () => {
      const rows = await listRolloutWebhooks(stack.database.db, started.id);
      return rows.length === expected.length && rows.every((r) => !r.in_flight && r.status !== "sending") ? rows : undefined;
    },
    { timeoutMs: 30_000 },
  );

  const mine = receiver.deliveries.filter((d) => d.rollout_id === started.id);
  // Each event id delivered exactly once, in order, header and body agreeing.
  expect(mine.map((d) => d.header)).toEqual(expected.map((_, i) => `${started.id}:${i + 1}`));
  expect(mine.map((d) => d.id)).toEqual(mine.map((d) => d.header));
  expect(mine.map((d) => d.event)).toEqual(expected);
  // The replayed steps found the records and began no second attempt: 2 was delivered; 4 was cut
  // off mid-POST (the receiver has it, the worker never learned it) and is not sent again.
  expect(records.map((r) => [r.seq, r.status, r.attempts])).toEqual([
    [1, "delivered", 1],
    [2, "delivered", 1],
    [3, "delivered", 1],
    [4, "unknown", 1],
    [5, "delivered", 1],
    [6, "delivered", 1],
  ]);
  const output = workerLines.join("\n");
  expect(output).toMatch(/was being sent when the worker died; not sent again/);
  // The webhook URL is never logged whole (its path often carries the secret), only scheme and host.
  expect(output).toContain(new URL(receiver.url).host);
  expect(output).not.toContain("/hooks/secret");
}, 300_000);

it("a failing webhook is retried a bounded number of times, a refusing one not at all, and neither blocks the rollout", async () => {
  const fleet = fleetClient(stack);
  const base = receiver.url.replace(/\/hooks\/secret$/, "");
  for (const [path, attempts] of [
    ["/hooks/unavailable", 3], // ROLLOUT_WEBHOOK_MAX_ATTEMPTS
    ["/hooks/gone", 1],
  ] as const) {
    const image = path.endsWith("gone") ? images.v1 : images.v3;
    const started = (await fleet.rollout({ image, wavePercentages: [100], webhookUrl: `${base}${path}` }, operatorAuth(stack))).rollout!;
    await waitFor(
      `the rollout with ${path} to complete`,
      async () => (await fleet.getRollout({ rolloutId: started.id }, operatorAuth(stack))).rollout?.state === "completed",
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const records = await waitFor(
      `every notification to ${path} given up`,
      async () => {
        const rows = await listRolloutWebhooks(stack.database.db, started.id);
        return rows.length === 4 && rows.every((r) => r.status === "given_up") ? rows : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(records.map((r) => r.attempts)).toEqual([attempts, attempts, attempts, attempts]);
    for (const r of records) expect(receiver.failing.filter((f) => f.id === r.event_id)).toHaveLength(attempts);
  }
}, 300_000);
