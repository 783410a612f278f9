/**
 * `ctrl` end to end, through the CLI binary as a child process, against the real system: ctrl-api
 * (in-process, real HTTP), the worker (`src/main.ts` as a child process, local builder), a real
 * restate-server, MariaDB, s3rver, the krane agent (child process, process driver) and frontline
 * (child process). Nothing is simulated.
 *
 * Guarantees: `ctrl deploy examples/hello` builds, becomes ready and its domain answers through
 * frontline; a second deploy, `ctrl rollback` and `ctrl promote` each change what the domain serves;
 * an identical context reuses the artifact; a failing build exits non-zero naming the step and
 * showing the log tail; status/list/logs work with --json; a worker SIGKILLed during a build is
 * restarted and the same `ctrl deploy` still ends ready with one artifact.
 */
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { startTestStack, type TestStack } from "@ctrl/ctrl-api/testing";
import { freePort, startProcess, startWorkerProcess, waitFor, type ManagedProcess, type WorkerProcess } from "@ctrl/testing";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const tsxLoader = pathToFileURL(require.resolve("tsx")).href;
const repo = resolve(import.meta.dirname, "../../..");
const ctrlBin = join(repo, "apps/cli/bin/ctrl.mjs");
const helloDir = join(repo, "examples/hello");

let stack: TestStack;
let worker: WorkerProcess;
let krane: ManagedProcess;
let frontline: ManagedProcess;
let frontlinePort: number;
let scratch: string;
const kraneDataDir = () => join(scratch, "krane");

function workerEnv(): Record<string, string> {
  return {
    DATABASE_URL: stack.database.url,
    RESTATE_ADMIN_URL: stack.restate.adminUrl,
    RESTATE_INGRESS_URL: stack.restate.ingressUrl,
    S3_ENDPOINT: stack.s3.endpoint,
    S3_BUCKET: "ctrl-builds",
    S3_ACCESS_KEY_ID: stack.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: stack.s3.secretAccessKey,
    BUILD_BACKEND: "local",
    BUILD_WORK_DIR: join(scratch, "builds"),
    REGIONS: "local",
    APEX_DOMAIN: "ctrl.localhost",
    READINESS_TIMEOUT_MS: "60000",
    READINESS_POLL_MS: "200",
    LOG_LEVEL: "info",
    RESTATE_LOGGING: "WARN",
  };
}

async function startWorker(ports: { port?: number; healthPort?: number } = {}): Promise<WorkerProcess> {
  const w = await startWorkerProcess({ entry: join(repo, "apps/ctrl-worker/src/main.ts"), ...ports, env: workerEnv(), name: "ctrl-worker", onLine: process.env.TEST_WORKER_OUTPUT ? (l) => console.log(`[worker] ${l}`) : undefined });
  await w.waitHealthy();
  await w.waitForLine(/registered with restate/);
  return w;
}

function startNode(name: string, entry: string, env: Record<string, string>): ManagedProcess {
  return startProcess(name, process.execPath, ["--import", tsxLoader, entry], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
    onLine: process.env.TEST_E2E_OUTPUT ? (l) => console.log(`[${name}] ${l}`) : undefined,
  });
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "ctrl-cli-e2e-"));
  // Quick retries after the worker comes back from a SIGKILL.
  stack = await startTestStack({ worker: false, restateEnv: { RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL: "500ms" } });
  worker = await startWorker();
  const rangeLow = 30_000 + (process.pid % 200) * 50;
  krane = startNode("krane", join(repo, "apps/krane/src/main.ts"), {
    KRANE_CONTROL_PLANE_URL: stack.apiUrl,
    KRANE_TOKEN: stack.apiToken,
    KRANE_REGION: "local",
    KRANE_DATA_DIR: kraneDataDir(),
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
  frontlinePort = await freePort();
  frontline = startNode("frontline", join(repo, "apps/frontline/src/main.ts"), {
    DATABASE_URL: stack.database.url,
    PORT: String(frontlinePort),
    FRONTLINE_UPSTREAM: "instances",
    FRONTLINE_REGION: "local",
    FRONTLINE_POLL_INTERVAL_MS: "100",
    CTRL_API_URL: stack.apiUrl,
    CTRL_API_TOKEN: stack.apiToken,
    LOG_LEVEL: "warn",
  });
  await waitFor("frontline to listen", async () => {
    if (frontline.child.exitCode !== null) throw new Error(`frontline exited:\n${frontline.tail()}`);
    return (await fetch(`http://127.0.0.1:${frontlinePort}/_ctrl/health`)).status === 200;
  }, { timeoutMs: 30_000, intervalMs: 100 });
}, 180_000);

afterAll(async () => {
  await krane?.stop(5_000);
  // Instances outlive a killed agent by design; stop them through the agent's own records.
  const files = await readdir(join(kraneDataDir(), "instances")).catch(() => [] as string[]);
  for (const f of files.filter((x) => x.endsWith(".json"))) {
    const record = JSON.parse(await readFile(join(kraneDataDir(), "instances", f), "utf8").catch(() => "{}")) as { pid?: number };
    try {
      if (record.pid) process.kill(-record.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  await frontline?.stop(3_000);
  await worker?.stop(3_000);
  await stack?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 60_000);

/** Runs the `ctrl` binary; resolves with its exit code and output. */
async function ctrl(args: string[], env: Record<string, string> = {}) {
  const proc = startProcess("ctrl", process.execPath, [ctrlBin, ...args], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", CTRL_API_URL: stack.apiUrl, CTRL_ROOT_KEY: stack.seed.rootKey, ...env },
  });
  let stdout = "";
  let stderr = "";
  proc.child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  proc.child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const { code } = await proc.exited;
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, any> };
}

/** GET through frontline with a Host header (what a browser resolving *.localhost does). */
function throughFrontline(host: string, path = "/"): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = http.request({ host: "127.0.0.1", port: frontlinePort, path, headers: { host } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolvePromise({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Waits until the domain answers 200 with a body naming `deploymentId`. */
async function waitServes(host: string, deploymentId: string) {
  let last: { status: number; body: string } | undefined;
  try {
    return await waitFor(`${host} to serve ${deploymentId}`, async () => {
      last = await throughFrontline(host);
      return last.status === 200 && (JSON.parse(last.body) as { deploymentId?: string }).deploymentId === deploymentId ? last : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100 });
  } catch (err) {
    const routes = await stack.database.db.selectFrom("frontline_routes").select(["fully_qualified_domain_name", "deployment_id", "sticky"]).where("fully_qualified_domain_name", "=", host).execute();
    const instances = await stack.database.db.selectFrom("instances").select(["deployment_id", "status", "address"]).execute();
    throw new Error(`${(err as Error).message}\nlast answer: ${JSON.stringify(last)}\nroutes: ${JSON.stringify(routes)}\ninstances: ${JSON.stringify(instances)}`);
  }
}

async function artifactKeys(): Promise<string[]> {
  const res = await stack.storage.client.send(new ListObjectsV2Command({ Bucket: "ctrl-builds", Prefix: `${stack.seed.projectId}/artifacts/` }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}

const project = () => ["--project", stack.seed.projectId];

describe("ctrl through the real system", () => {
  let first: string;
  let second: string;
  let envHost: string;

  it("deploys examples/hello: ready, and its domain answers through frontline", async () => {
    const run = await ctrl(["deploy", "examples/hello", ...project(), "--env", "production", "--json"]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const out = run.json();
    expect(out.status).toBe("READY");
    expect(out.image).toMatch(/^s3:\/\/ctrl-builds\/.+\/artifacts\/build_.+\.tar\.gz@sha256:[0-9a-f]{64}$/);
    expect(out.timings.packMs).toBeGreaterThanOrEqual(0);
    first = out.deploymentId;
    envHost = (out.hostnames as string[]).find((h) => h.includes("-production-"))!;
    expect(envHost).toBeDefined();
    for (const host of out.hostnames as string[]) await waitServes(host, first);
  }, 120_000);

  it("shows human progress: steps, status changes, the URLs", async () => {
    const run = await ctrl(["deploy", "examples/hello", ...project(), "--env", "preview", "--branch", "feature/progress"], { CTRL_FRONTLINE_PORT: String(frontlinePort) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/packed .*examples\/hello/);
    expect(run.stderr).toMatch(/deployment d_\w+ created \(preview, branch feature\/progress/);
    expect(run.stderr).toMatch(/✓ build:fetch/);
    expect(run.stderr).toMatch(/- build:install\s+reused the artifact/); // same context as the first deploy
    expect(run.stderr).toMatch(/→ READY/);
    expect(run.stdout).toMatch(new RegExp(`^ready in .*\\n  http://\\S+\\.ctrl\\.localhost:${frontlinePort}/`, "m"));
  }, 120_000);

  it("a second deploy moves the domain; rollback moves it back; promote moves it forward again", async () => {
    const run = await ctrl(["deploy", "examples/hello", ...project(), "--env", "production", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    second = run.json().deploymentId;
    await waitServes(envHost, second);

    const rollback = await ctrl(["rollback", first, "--json"]);
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    expect(rollback.json()).toMatchObject({ rolledBackFrom: second, deploymentId: first });
    await waitServes(envHost, first);

    const promote = await ctrl(["promote", second, "--json"]);
    expect(promote.code, promote.stdout + promote.stderr).toBe(0);
    await waitServes(envHost, second);

    // Rolling back to a deployment that is not ready is refused with the API's precise code.
    const bad = await ctrl(["rollback", "d_doesnotexist", "--source", second]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not_found/);
  }, 120_000);

  it("status, list and logs", async () => {
    const status = await ctrl(["status", first, "--json"]);
    expect(status.code).toBe(0);
    expect(status.json()).toMatchObject({ id: first, status: "READY" });
    expect((status.json().steps as { step: string }[]).map((s) => s.step)).toEqual(expect.arrayContaining(["build:fetch", "build:upload", "readiness", "cutover"]));
    const human = await ctrl(["status", first]);
    expect(human.stdout).toMatch(/status\s+READY/);

    const list = await ctrl(["list", ...project(), "--json"]);
    expect((list.json() as unknown as { id: string }[]).map((d) => d.id)).toEqual(expect.arrayContaining([first, second]));

    const logs = await ctrl(["logs", first]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/build plan from ctrl.json/);
  }, 60_000);

  it("a failing build exits non-zero with the failing step and its log tail", async () => {
    const dir = await mkdtemp(join(scratch, "broken-"));
    await writeFile(join(dir, "ctrl.json"), JSON.stringify({ start: "node server.js", build: "echo checking types; echo 'src/app.ts(3,1): error TS1005' >&2; exit 1" }));
    await writeFile(join(dir, "server.js"), "");
    const run = await ctrl(["deploy", dir, ...project(), "--env", "preview"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAILED at step build:compile/);
    expect(run.stdout).toMatch(/exited with code 1; last 2 log lines:\nchecking types\nsrc\/app\.ts\(3,1\): error TS1005/);
    expect(run.stderr).toMatch(/│ src\/app\.ts\(3,1\): error TS1005/); // the live log tail
  }, 60_000);

  it("a worker SIGKILLed during a build: the same ctrl deploy still ends ready, with one artifact", async () => {
    const dir = await mkdtemp(join(scratch, "slow-"));
    await cp(helloDir, dir, { recursive: true });
    await writeFile(join(dir, "ctrl.json"), JSON.stringify({ start: ["node", "server.js"], healthPath: "/health", build: "echo slow-build-started; sleep 4; echo slow-build-done" }));
    const before = await artifactKeys();
    const running = ctrl(["deploy", dir, ...project(), "--env", "preview", "--json"]);
    await waitFor("the slow build to start", async () => {
      const rows = await stack.database.db.selectFrom("build_logs").select("line").where("line", "=", "slow-build-started").execute();
      return rows.length > 0;
    }, { timeoutMs: 60_000, intervalMs: 50 });
    await worker.kill();
    worker = await startWorker({ port: worker.port, healthPort: worker.healthPort });
    const run = await running;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const out = run.json();
    expect(out.status).toBe("READY");
    const after = await artifactKeys();
    expect(after.filter((k) => !before.includes(k))).toEqual([`${stack.seed.projectId}/artifacts/build_${(out.deploymentId as string).slice(2)}.tar.gz`]);
    const builds = await stack.database.db.selectFrom("builds").select("id").where("deployment_id", "=", out.deploymentId).execute();
    expect(builds).toHaveLength(1);
  }, 180_000);
});
