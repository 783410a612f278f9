/**
 * A build that keeps failing on a transient error ends the deploy: the worker as a child process, a
 * real restate-server, MariaDB and an s3rver that is stopped after the context was uploaded, so
 * every attempt to fetch the context fails with a connection error (retryable, not a BuildError).
 * The build step's retries are bounded (5 attempts), the failure becomes terminal, and the
 * deployment ends `failed` with the reason — never left `building`.
 */
import { packDirectory } from "@ctrl/artifact";
import { seedLocal, type SeedResult } from "@ctrl/db";
import { createStorage, type Storage } from "@ctrl/s3";
import {
  createTestDatabase,
  startRestate,
  startS3,
  startWorkerProcess,
  waitFor,
  type RestateServer,
  type S3Server,
  type TestDatabase,
  type WorkerProcess,
} from "@ctrl/testing";
import * as clients from "@restatedev/restate-sdk-clients";
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { attachDeploy, insertDeployment, submitDeploy } from "./deploy-harness.js";

const entry = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const helloDir = fileURLToPath(new URL("./fixtures/build-hello", import.meta.url));

let database: TestDatabase;
let restate: RestateServer;
let s3: S3Server;
let s3Stopped = false;
let storage: Storage;
let rs: clients.Ingress;
let seed: SeedResult;
let scratch: string;
let workDir: string;
const started: WorkerProcess[] = [];

beforeAll(async () => {
  [database, restate, s3] = await Promise.all([
    createTestDatabase(),
    startRestate({ env: { RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS: "1000", RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL: "500ms" } }),
    startS3(),
  ]);
  storage = createStorage({
    endpoint: s3.endpoint,
    region: "us-east-1",
    bucket: "ctrl-builds",
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  });
  await storage.ensureBucket();
  rs = clients.connect({ url: restate.ingressUrl });
  seed = await seedLocal(database.db);
  scratch = await mkdtemp(join(tmpdir(), "ctrl-worker-build-"));
  workDir = join(scratch, "work");
}, 60_000);

afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.kill()));
});

afterAll(async () => {
  storage?.destroy();
  await restate?.dispose();
  if (!s3Stopped) await s3?.dispose();
  await database?.drop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function startWorker(options: { port?: number; healthPort?: number; env?: Record<string, string> } = {}): Promise<WorkerProcess> {
  const worker = await startWorkerProcess({
    entry,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.healthPort !== undefined ? { healthPort: options.healthPort } : {}),
    env: {
      DATABASE_URL: database.url,
      RESTATE_ADMIN_URL: restate.adminUrl,
      RESTATE_INGRESS_URL: restate.ingressUrl,
      RESTATE_IDENTITY_KEYS: restate.identityKeys.join(","),
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: "ctrl-builds",
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      BUILD_BACKEND: "local",
      BUILD_WORK_DIR: workDir,
      BUILD_TIMEOUT_SECONDS: "120",
      READINESS_TIMEOUT_MS: "60000",
      READINESS_POLL_MS: "200",
      LOG_LEVEL: "info",
      RESTATE_LOGGING: "WARN",
      ...options.env,
    },
    onLine: process.env.TEST_WORKER_OUTPUT ? (line) => console.log(`[worker] ${line}`) : undefined,
  });
  started.push(worker);
  await worker.waitHealthy();
  await worker.waitForLine(/registered with restate/);
  return worker;
}

async function upload(bytes: Buffer): Promise<string> {
  const key = `${seed.projectId}/build_${Math.random().toString(36).slice(2)}.tar.gz`;
  await storage.putObject(key, bytes, "application/gzip");
  return key;
}

/** The hello fixture with `ctrl.json` replaced, packed as the CLI would. */
async function helloContext(manifest?: object): Promise<Buffer> {
  const dir = await mkdtemp(join(scratch, "ctx-"));
  for (const name of await readdir(helloDir)) await copyFile(join(helloDir, name), join(dir, name));
  if (manifest) await writeFile(join(dir, "ctrl.json"), JSON.stringify(manifest));
  await packDirectory(dir, `${dir}.tar.gz`);
  return readFile(`${dir}.tar.gz`);
}

async function deployContext(key: string): Promise<string> {
  const id = await insertDeployment(database.db, {
    workspaceId: seed.workspaceId,
    projectId: seed.projectId,
    environmentId: seed.environments.preview,
    buildContextPath: key,
  });
  await submitDeploy(rs, id);
  return id;
}

describe("a build that keeps failing", () => {
  it("ends the deployment failed after its bounded retries instead of leaving it building", async () => {
    await startWorker();
    const key = await upload(await helloContext());
    // From now on every fetch of the context is refused: a transient error, retried by the step.
    await s3.dispose();
    s3Stopped = true;
    const id = await deployContext(key);
    const row = await waitFor(
      "the deployment to leave building",
      async () => {
        const d = await database.db
          .selectFrom("deployments")
          .select(["status", "error_message", "failed_step"])
          .where("id", "=", id)
          .executeTakeFirstOrThrow();
        return d.status === "failed" || d.status === "ready" ? d : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 250 },
    );
    expect(row.status).toBe("failed");
    expect(row.error_message).toMatch(/the build failed 5 times on transient errors/);
    const result = await attachDeploy(rs, id);
    expect(result).toMatchObject({ status: "failed" });
  }, 180_000);
});
