/**
 * Rollout webhooks are sent once even when the worker dies between the receiver's 2xx and the
 * journal entry of the delivery step (issue 12, "each is sent exactly once, even when the worker
 * is killed and replays").
 *
 * Real MariaDB, restate-server and ctrl-api; the worker as a child process; one acknowledging fake
 * agent per region. restate-server reaches the worker through a TCP proxy the test controls, so the
 * crash lands exactly in the window that produced duplicates: when the webhook receiver gets the
 * notification it stops the worker → restate direction (the step's journal entry cannot arrive),
 * answers 2xx, waits until the worker recorded the delivery in MySQL, then SIGKILLs the worker.
 * restate-server replays the step on the restarted worker, which finds the record and does not POST
 * again. (Before the delivery record, the replay POSTed the same event a second time.)
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
const images = { v1: "registry.test/ctrl/sentinel:v1", v2: "registry.test/ctrl/sentinel:v2" };
/** The notification whose delivery the crash interrupts: seq 2 is the first `wave_started`. */
const crashSeq = 2;

let stack: TestStack;
let agents: { stop(): Promise<void> } | undefined;
let worker: WorkerProcess | undefined;
let proxy: Proxy;
let receiver: Receiver;

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

/** Counts every POST by its `X-Ctrl-Event-Id`; at the crash notification it holds the worker's replies first. */
interface Receiver {
  url: string;
  server: Server;
  deliveries: Array<{ header: string; id: string; seq: number; event: string; rollout_id: string }>;
  /** Resolves once the crash notification got its 2xx. */
  answeredCrashEvent: Promise<string>;
}

async function startReceiver(onCrashEvent: () => void): Promise<Receiver> {
  const deliveries: Receiver["deliveries"] = [];
  let answered!: (id: string) => void;
  const answeredCrashEvent = new Promise<string>((resolve) => (answered = resolve));
  let crashed = false;
  const server = createHttpServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const event = JSON.parse(body) as Receiver["deliveries"][number];
      deliveries.push({ ...event, header: String(req.headers["x-ctrl-event-id"]) });
      const crashNow = !crashed && event.seq === crashSeq;
      if (crashNow) {
        crashed = true;
        onCrashEvent();
      }
      res.writeHead(200).end("ok", () => crashNow && answered(event.id));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/secret`, server, deliveries, answeredCrashEvent };
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
    onLine: process.env.TEST_WORKER_OUTPUT ? (line) => console.log(`[worker] ${line}`) : undefined,
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
  receiver = await startReceiver(() => proxy.holdReplies());
  worker = await startWorker({ port });
}, 120_000);

afterAll(async () => {
  await worker?.kill().catch(() => undefined);
  await agents?.stop();
  await proxy?.close();
  await new Promise((r) => receiver?.server.close(r));
  await stack?.close();
}, 60_000);

it("a worker SIGKILLed after the receiver's 2xx and before the journal entry: the replay does not POST again", async () => {
  const fleet = fleetClient(stack);
  const started = (await fleet.rollout({ image: images.v2, wavePercentages: [50, 100], webhookUrl: receiver.url }, operatorAuth(stack)))
    .rollout!;

  const crashEventId = await receiver.answeredCrashEvent;
  expect(crashEventId).toBe(`${started.id}:${crashSeq}`);
  // The receiver answered 2xx and the worker recorded it; the journal entry is still held in the proxy.
  await waitFor(
    "the delivery record of the crash notification",
    async () => (await findRolloutWebhook(stack.database.db, crashEventId))?.status === "delivered",
    {
      timeoutMs: 20_000,
      intervalMs: 20,
    },
  );
  const port = worker!.port;
  const healthPort = worker!.healthPort;
  await worker!.kill();
  proxy.cut();
  worker = await startWorker({ port, healthPort });

  await waitFor(
    "the rollout to complete after the crash",
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
      return rows.length === expected.length && rows.every((r) => r.status === "delivered") ? rows : undefined;
    },
    { timeoutMs: 30_000 },
  );

  const mine = receiver.deliveries.filter((d) => d.rollout_id === started.id);
  // Each event id delivered exactly once, in order, header and body agreeing.
  expect(mine.map((d) => d.header)).toEqual(expected.map((_, i) => `${started.id}:${i + 1}`));
  expect(mine.map((d) => d.id)).toEqual(mine.map((d) => d.header));
  expect(mine.map((d) => d.event)).toEqual(expected);
  // The replayed step found the record: it began no second attempt.
  expect(records.find((r) => r.event_id === crashEventId)!.attempts).toBe(1);
}, 300_000);
