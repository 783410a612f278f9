// Long because the build cases share one sandboxed builder, registry proxy and S3 server.
import { DeleteObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { downloadArtifact, packDirectory, parseArtifactRef, safeExtract } from "@ctrl/artifact";
import { findBuildByDeployment, findDeploymentById, listDeploymentSteps, newId, readBuildLogs, seedLocal, type SeedResult } from "@ctrl/db";
import { createStorage, type Storage } from "@ctrl/s3";
import { createTestDatabase, freePort, startProcess, startS3, waitFor, type S3Server, type TestDatabase } from "@ctrl/testing";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BuildError,
  buildIdFor,
  defaultContextLimits,
  memoryReporter,
  dbReporter,
  runBuild,
  type BuildConfig,
  type BuildJob,
  type BuildOutput,
} from "../src/index.js";
import { tarGz } from "./tarball.js";

// Guarantees under test: a context becomes a runnable, digest-verified artifact (ctrl.json and
// package.json apps, dependencies from the npm registry); an identical context of the same project
// reuses the artifact; one deployment never gets two artifacts; every bad context fails with a
// message naming the entry or limit and leaves nothing half-built.

const helloDir = resolve(import.meta.dirname, "fixtures/hello");
const withDepsDir = resolve(import.meta.dirname, "../../../examples/with-deps");

let s3: S3Server;
let storage: Storage;
let tdb: TestDatabase;
let seed: SeedResult;
let scratch: string;
let workDir: string;

beforeAll(async () => {
  [s3, tdb] = await Promise.all([startS3(), createTestDatabase()]);
  storage = createStorage({
    endpoint: s3.endpoint,
    region: "us-east-1",
    bucket: "ctrl-builds",
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  });
  await storage.ensureBucket();
  seed = await seedLocal(tdb.db);
  scratch = await mkdtemp(join(tmpdir(), "ctrl-build-test-"));
  // The build sandbox's uid must be able to reach the work dir (mkdtemp makes it 0700).
  await chmod(scratch, 0o711);
  workDir = join(scratch, "work");
});

afterAll(async () => {
  storage?.destroy();
  await Promise.all([s3?.dispose(), tdb?.drop()]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function config(overrides: Partial<BuildConfig> = {}): BuildConfig {
  return {
    backend: "local",
    limits: defaultContextLimits,
    timeoutMs: 180_000,
    workDir,
    npmRegistry: process.env.npm_config_registry ?? "https://registry.npmjs.org/",
    ...(process.env.NODE_EXTRA_CA_CERTS ? { caFile: process.env.NODE_EXTRA_CA_CERTS } : {}),
    ...overrides,
  };
}

/** A deployment row (building) whose context is `bytes`, uploaded under a fresh key. */
async function deploymentWithContext(bytes: Buffer): Promise<BuildJob> {
  const id = newId("d");
  const key = `${seed.projectId}/build_${id.slice(2)}.tar.gz`;
  await storage.putObject(key, bytes, "application/gzip");
  const now = Date.now();
  await tdb.db
    .insertInto("deployments")
    .values({
      id,
      workspace_id: seed.workspaceId,
      project_id: seed.projectId,
      environment_id: seed.environments.preview,
      source_type: "build_context",
      build_context_path: key,
      dockerfile_path: null,
      image: null,
      build_id: null,
      git_commit_sha: "",
      git_branch: "main",
      git_commit_message: null,
      git_commit_author_handle: null,
      git_commit_author_avatar_url: null,
      git_commit_timestamp: null,
      command: null,
      status: "building",
      error_message: null,
      failed_step: null,
      failure_reason: null,
      openapi_spec: null,
      cpu_millicores: 250,
      memory_mib: 256,
      replicas: 1,
      port: 8080,
      health_check_path: "/health",
      created_at: now,
      updated_at: now,
    })
    .execute();
  return { deploymentId: id, projectId: seed.projectId, workspaceId: seed.workspaceId, contextKey: key, buildId: buildIdFor(id) };
}

async function packFixture(dir: string): Promise<Buffer> {
  const file = join(scratch, `ctx-${Math.random().toString(36).slice(2)}.tar.gz`);
  await packDirectory(dir, file, { ignore: (p) => p === "node_modules" || p === "dist" });
  return readFile(file);
}

async function artifactKeys(): Promise<string[]> {
  const res = await storage.client.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: `${seed.projectId}/artifacts/` }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}

/** Downloads and unpacks an artifact, starts it with `PORT`, returns the body of `GET /`. */
async function serve(image: string): Promise<string> {
  const ref = parseArtifactRef(image)!;
  expect(ref).toBeDefined();
  const dir = await mkdtemp(join(scratch, "run-"));
  await downloadArtifact(storage, ref, join(dir, "a.tar.gz"));
  await safeExtract(join(dir, "a.tar.gz"), join(dir, "app"));
  const manifest = JSON.parse(await readFile(join(dir, "app", "ctrl.json"), "utf8")) as { start: string | string[] };
  expect(manifest).not.toHaveProperty("build");
  const port = await freePort();
  const argv = typeof manifest.start === "string" ? ["/bin/sh", "-c", manifest.start] : manifest.start;
  const proc = startProcess("app", argv[0]!, argv.slice(1), {
    cwd: join(dir, "app"),
    env: { PATH: process.env.PATH, PORT: String(port), CTRL_DEPLOYMENT_ID: "d_test" },
  });
  try {
    return await waitFor(
      "the built app to answer",
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        return res.ok ? await res.text() : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${proc.tail()}`);
  } finally {
    await proc.stop(2_000);
  }
}

async function expectWorkDirEmpty() {
  expect(existsSync(workDir) ? await readdir(workDir) : []).toEqual([]);
}

async function build(job: BuildJob, cfg = config()): Promise<BuildOutput> {
  const reporter = dbReporter(tdb.db, job.deploymentId, job.buildId);
  try {
    return await runBuild({ db: tdb.db, storage }, cfg, job, reporter);
  } finally {
    reporter.close?.();
  }
}

describe("local builder", () => {
  let helloJob: BuildJob;
  let hello: BuildOutput;

  it("builds a ctrl.json app into a digest-verified artifact that runs", async () => {
    helloJob = await deploymentWithContext(await packFixture(helloDir));
    hello = await build(helloJob);
    expect(hello.cached).toBe(false);
    expect(hello.image).toBe(`s3://ctrl-builds/${seed.projectId}/artifacts/${helloJob.buildId}.tar.gz@sha256:${hello.sha256}`);
    expect(hello.healthPath).toBe("/health");

    const steps = await listDeploymentSteps(tdb.db, helloJob.deploymentId);
    expect(steps.map((s) => [s.step, s.status])).toEqual([
      ["build:fetch", "completed"],
      ["build:extract", "completed"],
      ["build:install", "skipped"],
      ["build:compile", "skipped"],
      ["build:pack", "completed"],
      ["build:upload", "completed"],
    ]);
    const row = await findBuildByDeployment(tdb.db, helloJob.deploymentId);
    expect(row).toMatchObject({ id: helloJob.buildId, status: "succeeded", image: hello.image, artifact_sha256: hello.sha256 });
    expect(await findDeploymentById(tdb.db, helloJob.deploymentId)).toMatchObject({ image: hello.image, build_id: helloJob.buildId });
    await expectWorkDirEmpty();

    expect(await serve(hello.image)).toContain("hello from the build fixture");
  });

  it("returns the recorded result when the same deployment's build runs again (one artifact per deployment)", async () => {
    const before = await artifactKeys();
    const again = await build(helloJob);
    expect(again).toMatchObject({ image: hello.image, sha256: hello.sha256, buildId: helloJob.buildId });
    expect(await artifactKeys()).toEqual(before);
  });

  it("reuses the artifact of an identical context of the same project", async () => {
    const job = await deploymentWithContext(await packFixture(helloDir));
    const before = await artifactKeys();
    const result = await build(job);
    expect(result).toMatchObject({ cached: true, image: hello.image, sha256: hello.sha256, buildId: job.buildId });
    expect(await artifactKeys()).toEqual(before);
    const steps = await listDeploymentSteps(tdb.db, job.deploymentId);
    expect(steps.filter((s) => s.status === "skipped").map((s) => s.step)).toEqual([
      "build:extract",
      "build:install",
      "build:compile",
      "build:pack",
      "build:upload",
    ]);
    expect(await findBuildByDeployment(tdb.db, job.deploymentId)).toMatchObject({
      status: "succeeded",
      cached_from_build_id: helloJob.buildId,
    });
  });

  it("builds again when the reusable artifact is gone from storage, instead of handing out a dead reference", async () => {
    // A recorded build of the same digest whose object was deleted (bucket emptied, a fresh S3 beside
    // an old database): reuse would fail every instance with image_pull_failed.
    const first = await build(await deploymentWithContext(await packFixture(helloDir)));
    const gone = parseArtifactRef(first.image)!;
    await storage.client.send(new DeleteObjectCommand({ Bucket: gone.bucket, Key: gone.key }));
    expect(await storage.objectExists(gone.key)).toBe(false);

    const job = await deploymentWithContext(await packFixture(helloDir));
    const result = await build(job);
    expect(result.cached).toBe(false);
    expect(result.image).not.toBe(first.image);
    const fresh = parseArtifactRef(result.image)!;
    expect(await storage.objectExists(fresh.key)).toBe(true);
    expect((await readBuildLogs(tdb.db, job.deploymentId)).map((l) => l.line).join("\n")).toContain("no longer in storage; building again");
    expect(await serve(result.image)).toContain("hello from the build fixture");
  });

  it("installs dependencies from the npm registry, runs the build script and serves (examples/with-deps)", async () => {
    const job = await deploymentWithContext(await packFixture(withDepsDir));
    const result = await build(job);
    expect(result.cached).toBe(false);
    const steps = await listDeploymentSteps(tdb.db, job.deploymentId);
    expect(steps.map((s) => [s.step, s.status])).toEqual([
      ["build:fetch", "completed"],
      ["build:extract", "completed"],
      ["build:install", "completed"],
      ["build:compile", "completed"],
      ["build:pack", "completed"],
      ["build:upload", "completed"],
    ]);
    const log = (await readBuildLogs(tdb.db, job.deploymentId)).map((l) => l.line);
    expect(log).toContain("$ npm ci");
    expect(log).toContain("$ npm run build");
    expect(log).toContain("built dist/server.js");
    expect(await serve(result.image)).toMatch(/with-deps from d_test, built by npm run build/);
    await expectWorkDirEmpty();
  }, 240_000);
});

describe("bad contexts fail with a clear message and leave nothing half-built", () => {
  async function expectFailure(job: BuildJob, step: string, reason: string, message: RegExp, cfg = config()) {
    const before = await artifactKeys();
    const err = await build(job, cfg).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BuildError);
    const e = err as BuildError;
    expect({ step: e.step, reason: e.reason }).toEqual({ step, reason });
    expect(e.message).toMatch(message);
    const steps = await listDeploymentSteps(tdb.db, job.deploymentId);
    expect(steps.find((s) => s.step === step)).toMatchObject({ status: "failed", error_message: e.message });
    expect(steps.filter((s) => s.status === "running")).toEqual([]);
    expect(await findBuildByDeployment(tdb.db, job.deploymentId)).toMatchObject({ status: "failed", failed_step: step, image: null });
    expect(await findDeploymentById(tdb.db, job.deploymentId)).toMatchObject({ image: null, build_id: null });
    expect(await artifactKeys()).toEqual(before);
    await expectWorkDirEmpty();
    return e;
  }

  it("not gzip", async () => {
    const job = await deploymentWithContext(Buffer.from("this is plain text, not a tarball"));
    await expectFailure(job, "build:fetch", "build_context_invalid", /is not a gzip-compressed tarball \(it starts with 0x7468\)/);
  });

  it("an empty upload", async () => {
    const job = await deploymentWithContext(Buffer.alloc(0));
    await expectFailure(job, "build:fetch", "build_context_invalid", /not a gzip-compressed tarball \(it is empty\)/);
  });

  it("a path-traversal entry, named in the message", async () => {
    const job = await deploymentWithContext(
      tarGz([
        { path: "ctrl.json", body: '{"start":"node x.js"}' },
        { path: "../../evil.js", body: "pwned" },
      ]),
    );
    await expectFailure(job, "build:extract", "build_context_invalid", /\.\.\/\.\.\/evil\.js/);
    expect(existsSync(join(workDir, "..", "evil.js"))).toBe(false);
  });

  it("a symlink escaping the root, named in the message", async () => {
    const job = await deploymentWithContext(
      tarGz([
        { path: "ctrl.json", body: '{"start":"node x.js"}' },
        { path: "passwd", type: "2", linkpath: "/etc/passwd" },
      ]),
    );
    await expectFailure(job, "build:extract", "build_context_invalid", /passwd/);
  });

  it("a device file", async () => {
    const job = await deploymentWithContext(
      tarGz([
        { path: "ctrl.json", body: '{"start":"node x.js"}' },
        { path: "null", type: "3" },
      ]),
    );
    await expectFailure(job, "build:extract", "build_context_invalid", /null/);
  });

  it("over the compressed size limit, naming the limit", async () => {
    const job = await deploymentWithContext(await packFixture(helloDir));
    await expectFailure(
      job,
      "build:fetch",
      "build_context_invalid",
      /over the compressed size limit of 100 bytes \(BUILD_MAX_CONTEXT_BYTES\)/,
      config({ limits: { ...defaultContextLimits, maxCompressedBytes: 100 } }),
    );
  });

  it("over the extracted size and file-count limits, naming the limit", async () => {
    const big = tarGz([
      { path: "ctrl.json", body: '{"start":"node x.js"}' },
      { path: "big.txt", body: "x".repeat(50_000) },
    ]);
    const job = await deploymentWithContext(big);
    await expectFailure(
      job,
      "build:extract",
      "build_context_invalid",
      /limit/,
      config({ limits: { ...defaultContextLimits, maxExtractedBytes: 10_000 } }),
    );
    const many = await deploymentWithContext(tarGz(Array.from({ length: 20 }, (_, i) => ({ path: `f${i}.txt`, body: "x" }))));
    await expectFailure(
      many,
      "build:extract",
      "build_context_invalid",
      /limit/,
      config({ limits: { ...defaultContextLimits, maxFiles: 5 } }),
    );
  });

  it("a context without ctrl.json or package.json", async () => {
    const job = await deploymentWithContext(tarGz([{ path: "server.js", body: "1" }]));
    await expectFailure(job, "build:extract", "build_context_invalid", /neither ctrl.json nor package.json/);
  });

  it("an invalid ctrl.json", async () => {
    const job = await deploymentWithContext(tarGz([{ path: "ctrl.json", body: '{"start": "", "prot": 1}' }]));
    await expectFailure(job, "build:extract", "build_context_invalid", /ctrl.json is invalid/);
  });

  it("a failing build command, with its last log lines in the message", async () => {
    const manifest = JSON.stringify({ start: "node server.js", build: "echo compiling src/a.ts; echo 'error TS2322: boom' >&2; exit 7" });
    const job = await deploymentWithContext(
      tarGz([
        { path: "ctrl.json", body: manifest },
        { path: "server.js", body: "" },
      ]),
    );
    const e = await expectFailure(
      job,
      "build:compile",
      "build_failed",
      /"echo compiling[^"]*" exited with code 7; last 2 log lines:\ncompiling src\/a\.ts\nerror TS2322: boom/,
    );
    expect(e.message).toContain("error TS2322: boom");
    const log = (await readBuildLogs(tdb.db, job.deploymentId)).map((l) => l.line);
    expect(log).toContain("error TS2322: boom");
  });

  it("a build that leaves a symlink pointing outside the app fails at build:pack, naming it", async () => {
    const job = await deploymentWithContext(
      tarGz([{ path: "ctrl.json", body: JSON.stringify({ start: "true", build: "mkdir -p out && ln -s /etc/hostname out/host" }) }]),
    );
    await expectFailure(job, "build:pack", "build_failed", /symlink out\/host -> \/etc\/hostname pointing outside the app/);
  });

  it("a build that outlives the timeout", async () => {
    const job = await deploymentWithContext(
      tarGz([{ path: "ctrl.json", body: JSON.stringify({ start: "true", build: "echo started; sleep 60" }) }]),
    );
    await expectFailure(
      job,
      "build:compile",
      "build_timeout",
      /did not finish within the build timeout of 2 s \(BUILD_TIMEOUT_SECONDS\); last 1 log lines:\nstarted/,
      config({ timeoutMs: 2_000 }),
    );
  });

  it("a context key of another project is refused before anything is read", async () => {
    const job = await deploymentWithContext(await packFixture(helloDir));
    for (const contextKey of ["proj_other/build_x.tar.gz", `${seed.projectId}/../proj_other/build_x.tar.gz`]) {
      const err = await build({ ...job, contextKey }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BuildError);
      expect(err).toMatchObject({ step: "build:fetch", reason: "build_context_invalid" });
      expect((err as Error).message).toContain(`is not an upload of project ${seed.projectId}`);
    }
    expect(await findBuildByDeployment(tdb.db, job.deploymentId)).toBeUndefined();
  });

  it("a context that was never uploaded", async () => {
    const job = await deploymentWithContext(Buffer.from("x"));
    await storage.client.send(new DeleteObjectCommand({ Bucket: storage.bucket, Key: job.contextKey }));
    await expectFailure(job, "build:fetch", "build_context_missing", /does not exist/);
  });
});

describe("reporters", () => {
  it("memoryReporter records steps and lines", async () => {
    const r = memoryReporter();
    await r.step("build:fetch", "running", "x");
    r.log("build:fetch", "line");
    expect(r.steps).toEqual([{ step: "build:fetch", status: "running", message: "x" }]);
    expect(r.lines).toEqual([{ step: "build:fetch", line: "line" }]);
  });
});
