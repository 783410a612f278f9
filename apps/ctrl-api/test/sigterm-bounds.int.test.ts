/**
 * Every long-running service stops on SIGTERM within its bound, and a stuck connection cannot keep
 * it alive: ctrl-api, ctrl-worker and the krane agent, each as a real child process
 * (`node --import tsx src/main.ts`). Each gets connections that never finish (a request head that
 * never ends, an idle HTTP/2 preface, a control plane that accepts the agent's stream and never
 * answers), then SIGTERM; the process must be gone — its whole process group — within its bound
 * (10 s of grace in each main.ts) plus start-up slack. SIGKILL is never sent by the test: the
 * harness's stop() is given a grace longer than the bound, so a hang shows as a timeout here.
 */
import {
  createTestDatabase,
  freePort,
  startProcess,
  startS3,
  startWorkerProcess,
  waitFor,
  type ManagedProcess,
  type S3Server,
  type TestDatabase,
} from "@ctrl/testing";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const tsxLoader = pathToFileURL(require.resolve("tsx")).href;
const appsDir = fileURLToPath(new URL("../../", import.meta.url));
/** The grace each main.ts allows itself, plus slack for a loaded 2-core machine. */
const boundMs = 10_000 + 8_000;

let s3: S3Server;
let database: TestDatabase;
const sockets: Socket[] = [];
const servers: Server[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  [s3, database] = await Promise.all([startS3(), createTestDatabase()]);
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
  await Promise.all([s3?.dispose(), database?.drop()]);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Opens a connection to `port` that sends `bytes` and then stays open, never finishing anything. */
async function stuckConnection(port: number, bytes: string): Promise<Socket> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
  socket.on("error", () => undefined);
  socket.write(bytes);
  sockets.push(socket);
  return socket;
}

/** SIGTERM, then waits (without ever SIGKILLing) until the process and its group are gone. */
async function sigtermAndMeasure(
  proc: ManagedProcess,
): Promise<{ ms: number; exit: { code: number | null; signal: NodeJS.Signals | null } }> {
  const t0 = Date.now();
  process.kill(proc.child.pid!, "SIGTERM");
  const exit = await waitFor(
    `${proc.name} to exit after SIGTERM`,
    async () => (proc.child.exitCode !== null || proc.child.signalCode !== null ? await proc.exited : undefined),
    { timeoutMs: boundMs, intervalMs: 50 },
  ).catch(async (err: Error) => {
    await proc.kill();
    throw new Error(`${err.message}\n--- last output ---\n${proc.tail(30)}`);
  });
  return { ms: Date.now() - t0, exit };
}

const s3Env = () => ({
  S3_ENDPOINT: s3.endpoint,
  S3_ACCESS_KEY_ID: s3.accessKeyId,
  S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  S3_BUCKET: "ctrl-builds",
});
const baseEnv = () => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", LOG_LEVEL: "info" });

describe("SIGTERM bounds", () => {
  it("ctrl-api exits within its bound with a request head that never ends and an idle HTTP/2 connection open", async () => {
    const [port, grpcPort] = [await freePort(), await freePort()];
    let listening = false;
    const proc = startProcess("ctrl-api", process.execPath, ["--import", tsxLoader, join(appsDir, "ctrl-api/src/main.ts")], {
      env: {
        ...baseEnv(),
        ...s3Env(),
        DATABASE_URL: database.url,
        CTRL_OPERATOR_TOKEN: "sigterm-test-operator-token-0123456789",
        CTRL_FRONTLINE_TOKEN: "sigterm-test-frontline-token-0123456789",
        PORT: String(port),
        GRPC_PORT: String(grpcPort),
        HOST: "127.0.0.1",
        RESTATE_INGRESS_URL: `http://127.0.0.1:${await freePort()}`,
        PENDING_SWEEP_INTERVAL_MS: "0",
      },
      onLine: (line) => (listening ||= line.includes("ctrl-api listening")),
    });
    try {
      await waitFor("ctrl-api to listen", () => listening || proc.child.exitCode !== null, { timeoutMs: 60_000 });
      expect(listening, proc.tail()).toBe(true);
      await stuckConnection(port, "POST /v2/deploy.generateUploadUrl HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{");
      await stuckConnection(grpcPort, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
      const { exit } = await sigtermAndMeasure(proc);
      expect(exit.signal).toBeNull();
    } finally {
      await proc.kill();
    }
  }, 120_000);

  it("ctrl-worker exits within its bound with stuck connections on its endpoint and health ports", async () => {
    const worker = await startWorkerProcess({
      entry: join(appsDir, "ctrl-worker/src/main.ts"),
      env: {
        ...s3Env(),
        DATABASE_URL: database.url,
        RESTATE_ADMIN_URL: `http://127.0.0.1:${await freePort()}`,
        RESTATE_INGRESS_URL: `http://127.0.0.1:${await freePort()}`,
        RESTATE_IDENTITY_KEYS: "insecure-accept-unsigned",
        LOG_LEVEL: "info",
      },
      name: "ctrl-worker",
    });
    try {
      // The line is printed in the same synchronous run that installs the SIGTERM handler (a port
      // accepts connections earlier, while main.ts is still starting).
      await worker.waitForLine(/ctrl-worker listening/, 60_000);
      await stuckConnection(worker.healthPort, "GET /health HTTP/1.1\r\nHost: x\r\n");
      await stuckConnection(worker.port, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
      const { exit } = await sigtermAndMeasure(worker.process);
      expect(exit.signal).toBeNull();
    } finally {
      await worker.process.kill();
    }
  }, 120_000);

  it("the krane agent exits within its bound while its control plane holds the watch stream and a client holds its HTTP port", async () => {
    // A "control plane" that accepts every connection, reads it and never answers.
    const silent = createServer((socket) => {
      socket.on("error", () => undefined);
      socket.resume();
      sockets.push(socket);
    });
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const controlPlane = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const dataDir = await mkdtemp(join(tmpdir(), "krane-sigterm-"));
    dirs.push(dataDir);
    let httpPort: number | undefined;
    const proc = startProcess("krane", process.execPath, ["--import", tsxLoader, join(appsDir, "krane/src/main.ts")], {
      env: {
        ...baseEnv(),
        ...s3Env(),
        KRANE_CONTROL_PLANE_URL: controlPlane,
        KRANE_TOKEN: "sigterm-test-agent-token-0123456789abcdef",
        KRANE_REGION: "local",
        KRANE_DATA_DIR: dataDir,
        KRANE_PORT_RANGE: "45000-45009",
        KRANE_HTTP_PORT: "0",
      },
      onLine: (line) => {
        const m = /"httpPort":(\d+)/.exec(line);
        if (m) httpPort = Number(m[1]);
      },
    });
    try {
      await waitFor("the agent to listen", () => httpPort !== undefined || proc.child.exitCode !== null, { timeoutMs: 60_000 });
      expect(httpPort, proc.tail()).toBeDefined();
      // The agent has opened its stream to the silent control plane by now (or keeps retrying).
      await waitFor(
        "the agent to connect to its control plane",
        () => new Promise<boolean>((r) => silent.getConnections((_e, n) => r(n > 0))),
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      await stuckConnection(httpPort!, "GET /status HTTP/1.1\r\nHost: x\r\n");
      const { exit } = await sigtermAndMeasure(proc);
      expect(exit.signal).toBeNull();
    } finally {
      await proc.kill();
    }
  }, 120_000);
});
