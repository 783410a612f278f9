import { seedLocal, type SeedResult } from "@ctrl/db";
import { createStorage, type Storage } from "@ctrl/s3";
import {
  createTestDatabase,
  startRestate,
  startS3,
  waitFor,
  type RestateServer,
  type S3Server,
  type TestDatabase,
  type WorkerProcess,
} from "@ctrl/testing";
import * as clients from "@restatedev/restate-sdk-clients";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { helloContext as packHello, startBuildWorker, uploadContext } from "./build-worker.js";
import { attachDeploy, insertDeployment, submitDeploy } from "./deploy-harness.js";

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
  const worker = await startBuildWorker({ database, restate, s3, workDir }, options);
  started.push(worker);
  return worker;
}

const upload = (bytes: Buffer) => uploadContext(storage, seed.projectId, bytes);
const helloContext = (manifest?: object) => packHello(scratch, manifest);

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
