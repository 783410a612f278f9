/**
 * BuildService inside the real deploy path: the worker as a child process (`src/main.ts`), a real
 * restate-server, MariaDB and s3rver; the test plays ctrl-api (inserts the deployment, submits the
 * workflow) and the agent (reports instances running).
 *
 * Guarantees: a context deploy builds an artifact and ends `ready` with `image = s3://…@sha256:…`;
 * a failing build ends `failed` with the failing build step, reason and the command's log tail; a
 * worker SIGKILLed in the middle of a build is restarted, the build runs again and the deployment
 * still ends `ready` with exactly one artifact and one build row.
 */
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { readBuildLogs, seedLocal, type SeedResult } from "@ctrl/db";
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
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { helloContext as packHello, startBuildWorker, uploadContext } from "./build-worker.js";
import { attachDeploy, insertDeployment, playAgent, readDeployState, submitDeploy } from "./deploy-harness.js";

let database: TestDatabase;
let restate: RestateServer;
let s3: S3Server;
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
  // The build sandbox's uid must be able to reach the work dir (mkdtemp makes it 0700).
  await chmod(scratch, 0o711);
  workDir = join(scratch, "work");
}, 60_000);

afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.kill()));
});

afterAll(async () => {
  storage?.destroy();
  await restate?.dispose();
  await s3?.dispose();
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

async function artifactKeys(): Promise<string[]> {
  const res = await storage.client.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: `${seed.projectId}/artifacts/` }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
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

describe("BuildService in the deploy workflow", () => {
  it("builds a context and the deployment ends ready with the artifact as its image", async () => {
    await startWorker();
    const id = await deployContext(await upload(await helloContext()));
    const agent = playAgent(database.db, id, ["local"], { status: "running" });
    const result = await attachDeploy(rs, id);
    await agent;
    expect(result.status).toBe("ready");
    const state = await readDeployState(database.db, id);
    expect(state.deployment.status).toBe("ready");
    expect(state.deployment.image).toMatch(
      new RegExp(`^s3://ctrl-builds/${seed.projectId}/artifacts/build_${id.slice(2)}\\.tar\\.gz@sha256:[0-9a-f]{64}$`),
    );
    expect(state.deployment.build_id).toBe(`build_${id.slice(2)}`);
    expect(state.stepStatus).toMatchObject({
      "build:fetch": "completed",
      "build:extract": "completed",
      "build:pack": "completed",
      "build:upload": "completed",
      build: "completed",
    });
    expect(existsSync(workDir) ? await readdir(workDir) : []).toEqual([]);
  });

  it("a failing build fails the deployment with the build step, the reason and the log tail", async () => {
    await startWorker();
    const id = await deployContext(
      await upload(await helloContext({ start: "node server.js", build: "echo compiling; echo 'fatal: missing semicolon' >&2; exit 2" })),
    );
    const result = await attachDeploy(rs, id);
    expect(result.status).toBe("failed");
    const { deployment, stepStatus } = await readDeployState(database.db, id);
    expect(deployment).toMatchObject({ status: "failed", failed_step: "build:compile", failure_reason: "build_failed", image: null });
    expect(deployment.error_message).toContain("exited with code 2");
    expect(deployment.error_message).toContain("fatal: missing semicolon");
    expect(stepStatus["build:compile"]).toBe("failed");
  });

  it("a context that is not gzip fails the deployment naming the problem", async () => {
    await startWorker();
    const id = await deployContext(await upload(Buffer.from("PK\u0003\u0004 a zip file")));
    const result = await attachDeploy(rs, id);
    expect(result.status).toBe("failed");
    const { deployment } = await readDeployState(database.db, id);
    expect(deployment).toMatchObject({ status: "failed", failed_step: "build:fetch", failure_reason: "build_context_invalid" });
    expect(deployment.error_message).toMatch(/not a gzip-compressed tarball/);
  });

  it("a worker SIGKILLed during a build: the build runs again and the deployment ends ready with one artifact", async () => {
    const first = await startWorker();
    const before = await artifactKeys();
    // The build prints a marker, then takes long enough for the test to kill the worker mid-build.
    const id = await deployContext(
      await upload(await helloContext({ start: "node server.js", build: "echo build-started; sleep 4; echo build-finished" })),
    );
    await waitFor("the build to be running", async () => (await readBuildLogs(database.db, id)).some((l) => l.line === "build-started"), {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    await first.kill();
    expect(first.process.child.signalCode).toBe("SIGKILL");
    const { deployment: during } = await readDeployState(database.db, id);
    expect(during.status).toBe("building");

    await startWorker({ port: first.port, healthPort: first.healthPort });
    const agent = playAgent(database.db, id, ["local"], { status: "running" });
    const result = await attachDeploy(rs, id);
    await agent;
    expect(result.status).toBe("ready");

    const state = await readDeployState(database.db, id);
    expect(state.deployment.image).toContain(`/artifacts/build_${id.slice(2)}.tar.gz@sha256:`);
    expect(await artifactKeys()).toEqual([...before, `${seed.projectId}/artifacts/build_${id.slice(2)}.tar.gz`].sort());
    const builds = await database.db.selectFrom("builds").selectAll().where("deployment_id", "=", id).execute();
    expect(builds).toHaveLength(1);
    expect(builds[0]).toMatchObject({ status: "succeeded", image: state.deployment.image });
    // The retried attempt appended to the log after the killed one (a follower misses nothing): two
    // starts, one finish, the restart noted, and sequence numbers without gaps or repeats.
    const log = await readBuildLogs(database.db, id);
    const lines = log.map((l) => l.line);
    expect(lines.filter((l) => l === "build-started")).toHaveLength(2);
    expect(lines.filter((l) => l === "build-finished")).toHaveLength(1);
    expect(lines.some((l) => l.includes("an earlier attempt of this build was interrupted"))).toBe(true);
    expect(log.map((l) => l.seq)).toEqual(log.map((_, i) => i + 1));
    expect(state.steps.filter((s) => s.step === "build:compile")).toHaveLength(1);
  }, 120_000);

  it("with BUILD_BACKEND=none a context deploy fails at once with build_not_configured, naming the variable", async () => {
    await startWorker({ env: { BUILD_BACKEND: "none" } });
    const id = await deployContext(await upload(await helloContext()));
    const result = await attachDeploy(rs, id);
    expect(result.status).toBe("failed");
    const { deployment } = await readDeployState(database.db, id);
    expect(deployment).toMatchObject({ status: "failed", failure_reason: "build_not_configured", image: null });
    expect(deployment.error_message).toMatch(/BUILD_BACKEND=none.*set BUILD_BACKEND=local/);
  });

  it("a build that hangs is cut at BUILD_TIMEOUT_SECONDS: the deployment fails with build_timeout instead of staying building", async () => {
    await startWorker({ env: { BUILD_TIMEOUT_SECONDS: "2" } });
    const id = await deployContext(await upload(await helloContext({ start: "node server.js", build: "echo waiting forever; sleep 600" })));
    const result = await attachDeploy(rs, id);
    expect(result.status).toBe("failed");
    const { deployment } = await readDeployState(database.db, id);
    expect(deployment).toMatchObject({ status: "failed", failed_step: "build:compile", failure_reason: "build_timeout" });
    expect(deployment.error_message).toMatch(
      /did not finish within the build timeout of 2 s \(BUILD_TIMEOUT_SECONDS\); last 1 log lines:\nwaiting forever/,
    );
  });
});
