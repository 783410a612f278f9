/**
 * The whole system as real processes, for the CLI's end-to-end test and `bench/cli-deploy.ts`:
 * ctrl-api in-process (real HTTP; MariaDB, restate-server and s3rver from the ctrl-api harness), the
 * worker (`apps/ctrl-worker/src/main.ts` as a child process, local builder), the krane agent and
 * frontline as child processes. `ctrl()` runs the CLI binary itself.
 */
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { startTestStack, type TestStack } from "@ctrl/ctrl-api/testing";
import { freePort, startProcess, startWorkerProcess, waitFor, type ManagedProcess, type WorkerProcess } from "@ctrl/testing";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { stopRecordedInstances } from "@ctrl/krane/testing";
import http from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const tsxLoader = pathToFileURL(require.resolve("tsx")).href;
/** Repository root. */
export const repo = resolve(import.meta.dirname, "../../..");
const ctrlBin = join(repo, "apps/cli/bin/ctrl.mjs");

/** What one `ctrl` run printed and how it ended. */
export interface CtrlRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json(): Record<string, any>;
}

/** The running system. */
export interface System {
  stack: TestStack;
  worker: WorkerProcess;
  frontlinePort: number;
  scratch: string;
  /** Runs the `ctrl` binary with CTRL_API_URL/CTRL_ROOT_KEY of this system. */
  ctrl(args: string[], env?: Record<string, string>): Promise<CtrlRun>;
  /** GET through frontline with a Host header (what a browser resolving *.localhost does). */
  throughFrontline(host: string, path?: string): Promise<{ status: number; body: string }>;
  /** Waits until `host` answers 200 through frontline with a body naming `deploymentId` (examples/hello). */
  waitServes(host: string, deploymentId: string, timeoutMs?: number): Promise<void>;
  /** SIGKILLs the worker and starts it again on the same ports. */
  restartWorkerAfterKill(): Promise<void>;
  artifactKeys(): Promise<string[]>;
  close(): Promise<void>;
}

function startNode(name: string, entry: string, env: Record<string, string>): ManagedProcess {
  return startProcess(name, process.execPath, ["--import", tsxLoader, entry], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
    onLine: process.env.TEST_E2E_OUTPUT ? (l) => console.log(`[${name}] ${l}`) : undefined,
  });
}

/**
 * Starts everything; `readinessPollMs` is the worker's readiness recheck interval, `workerEnv` adds
 * worker variables (e.g. the halt supervisor's page receivers).
 */
// Long because it is the whole stack's composition root for the CLI tests (servers, secrets, five processes, in order).
export async function startSystem(options: { readinessPollMs?: number; workerEnv?: Record<string, string> } = {}): Promise<System> {
  const scratch = await mkdtemp(join(tmpdir(), "ctrl-system-"));
  // The sandboxes' unprivileged uids must traverse it to reach their build and instance dirs.
  await chmod(scratch, 0o711);
  const kraneDataDir = join(scratch, "krane");
  // Quick retries after the worker comes back from a SIGKILL.
  const stack = await startTestStack({ worker: false, restateEnv: { RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL: "500ms" } });
  const workerEnv = {
    DATABASE_URL: stack.database.url,
    RESTATE_ADMIN_URL: stack.restate.adminUrl,
    RESTATE_INGRESS_URL: stack.restate.ingressUrl,
    RESTATE_IDENTITY_KEYS: stack.restate.identityKeys.join(","),
    S3_ENDPOINT: stack.s3.endpoint,
    S3_BUCKET: "ctrl-builds",
    S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
    BUILD_BACKEND: "local",
    BUILD_WORK_DIR: join(scratch, "builds"),
    REGIONS: "local",
    APEX_DOMAIN: "ctrl.localhost",
    READINESS_TIMEOUT_MS: "60000",
    READINESS_POLL_MS: String(options.readinessPollMs ?? 200),
    LOG_LEVEL: "info",
    RESTATE_LOGGING: "WARN",
    ...options.workerEnv,
  };
  const startWorker = async (ports: { port?: number; healthPort?: number } = {}) => {
    const w = await startWorkerProcess({
      entry: join(repo, "apps/ctrl-worker/src/main.ts"),
      ...ports,
      env: workerEnv,
      name: "ctrl-worker",
      onLine: process.env.TEST_WORKER_OUTPUT ? (l) => console.log(`[worker] ${l}`) : undefined,
    });
    await w.waitHealthy();
    await w.waitForLine(/registered with restate/);
    return w;
  };
  const rangeLow = 30_000 + (process.pid % 200) * 50;
  const krane = startNode("krane", join(repo, "apps/krane/src/main.ts"), {
    KRANE_CONTROL_PLANE_URL: stack.apiUrl,
    KRANE_TOKEN: await stack.agentToken("local", { ports: { low: rangeLow, high: rangeLow + 49 } }),
    KRANE_REGION: "local",
    KRANE_DATA_DIR: kraneDataDir,
    KRANE_PORT_RANGE: `${rangeLow}-${rangeLow + 49}`,
    KRANE_HTTP_PORT: "0",
    KRANE_HEALTH_INTERVAL_MS: "50",
    KRANE_STOP_GRACE_MS: "2000",
    KRANE_RESYNC_INTERVAL_MS: "5000",
    S3_ENDPOINT: stack.s3.endpoint,
    S3_BUCKET: "ctrl-builds",
    S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
    LOG_LEVEL: "info",
  });
  const frontlinePort = await freePort();
  const frontline = startNode("frontline", join(repo, "apps/frontline/src/main.ts"), {
    DATABASE_URL: stack.database.url,
    PORT: String(frontlinePort),
    FRONTLINE_UPSTREAM: "instances",
    FRONTLINE_REGION: "local",
    FRONTLINE_POLL_INTERVAL_MS: "100",
    CTRL_API_URL: stack.apiUrl,
    CTRL_FRONTLINE_TOKEN: stack.frontlineToken,
    FRONTLINE_UPSTREAM_PORT_RANGE: `${rangeLow}-${rangeLow + 49}`,
    LOG_LEVEL: "warn",
  });
  const worker = await startWorker();
  await waitFor(
    "frontline to listen",
    async () => {
      if (frontline.child.exitCode !== null) throw new Error(`frontline exited:\n${frontline.tail()}`);
      return (await fetch(`http://127.0.0.1:${frontlinePort}/_ctrl/health`)).status === 200;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );

  const throughFrontline = (host: string, path = "/") =>
    new Promise<{ status: number; body: string }>((resolvePromise, reject) => {
      const req = http.request({ host: "127.0.0.1", port: frontlinePort, path, headers: { host }, agent: false }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolvePromise({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });

  const system: System = {
    stack,
    worker,
    frontlinePort,
    scratch,
    async ctrl(args, env = {}) {
      const proc = startProcess("ctrl", process.execPath, [ctrlBin, ...args], {
        cwd: repo,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: process.env.HOME ?? "/root",
          CTRL_API_URL: stack.apiUrl,
          CTRL_ROOT_KEY: stack.seed.rootKey,
          ...env,
        },
      });
      let stdout = "";
      let stderr = "";
      proc.child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
      proc.child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
      const { code } = await proc.exited;
      return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, any> };
    },
    throughFrontline,
    async waitServes(host, deploymentId, timeoutMs = 30_000) {
      let last: { status: number; body: string } | undefined;
      try {
        await waitFor(
          `${host} to serve ${deploymentId}`,
          async () => {
            last = await throughFrontline(host);
            return last.status === 200 && (JSON.parse(last.body) as { deploymentId?: string }).deploymentId === deploymentId;
          },
          { timeoutMs, intervalMs: 20 },
        );
      } catch (err) {
        const routes = await stack.database.db
          .selectFrom("frontline_routes")
          .select(["fully_qualified_domain_name", "deployment_id", "sticky"])
          .where("fully_qualified_domain_name", "=", host)
          .execute();
        const instances = await stack.database.db.selectFrom("instances").select(["deployment_id", "status", "address"]).execute();
        throw new Error(
          `${(err as Error).message}\nlast answer: ${JSON.stringify(last)}\nroutes: ${JSON.stringify(routes)}\ninstances: ${JSON.stringify(instances)}`,
        );
      }
    },
    async restartWorkerAfterKill() {
      const old = system.worker;
      await old.kill();
      system.worker = await startWorker({ port: old.port, healthPort: old.healthPort });
    },
    async artifactKeys() {
      const res = await stack.storage.client.send(
        new ListObjectsV2Command({ Bucket: "ctrl-builds", Prefix: `${stack.seed.projectId}/artifacts/` }),
      );
      return (res.Contents ?? []).map((o) => o.Key!).sort();
    },
    async close() {
      await krane.stop(5_000);
      // Instances outlive their agent by design; stop them through the agent's own records.
      await stopRecordedInstances(kraneDataDir);
      await frontline.stop(3_000);
      await system.worker.stop(3_000);
      await stack.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
  return system;
}
