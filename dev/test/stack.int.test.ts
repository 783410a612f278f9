import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { createConnection } from "mysql2/promise";
import { startProcess, waitFor, waitForPortFree, type ManagedProcess } from "@ctrl/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { findBinary } from "../src/mysql.js";
import { isPortFree, leftoverProcesses, processesMentioning } from "../src/runner.js";

// The real command, as `pnpm dev` runs it: `node --import tsx dev/stack.ts` in a child process, on free ports, with
// its data in a temp dir and a database of its own, so it never touches a developer's `.data` or `ctrl`.
const devDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const serverUrl = process.env.TEST_DATABASE_URL ?? "mysql://root@127.0.0.1:3306";
const databaseName = `ctrl_devstack_${process.pid}_${Date.now().toString(36)}`;

const portNames = [
  "API",
  "GRPC",
  "RESTATE_INGRESS",
  "RESTATE_ADMIN",
  "RESTATE_NODE",
  "S3",
  "WORKER",
  "WORKER_HEALTH",
  "MYSQL",
  "FRONTLINE",
  "KRANE",
] as const;

// Ports below the kernel's ephemeral range (32768+ here): a port from freePort() can be taken as the
// source port of some outgoing connection in the seconds before the stack binds it (seen on a busy
// machine); these can only be taken by a listener. 20000+ is krane's instance range.
const usedPorts = new Set<number>();
async function quietPort(): Promise<number> {
  for (;;) {
    const port = 12_000 + Math.floor(Math.random() * 8_000);
    if (usedPorts.has(port) || !(await isPortFree(port))) continue;
    usedPorts.add(port);
    return port;
  }
}

async function stackEnv(dataDir: string, extra: Record<string, string> = {}) {
  const ports: Record<string, number> = {};
  for (const name of portNames) ports[name] = await quietPort();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    CTRL_DEV_DATA_DIR: dataDir,
    NO_COLOR: "1",
    CTRL_DEV_ACME: "off",
    ...extra,
  };
  for (const [name, port] of Object.entries(ports)) env[`CTRL_DEV_${name}_PORT`] = String(port);
  return { env, ports };
}

const dataDirOf = (env: Record<string, string>) => env.CTRL_DEV_DATA_DIR!;

function startStack(env: Record<string, string>, args: string[] = []): ManagedProcess {
  return startProcess("stack", process.execPath, ["--import", tsxLoader, join(devDir, "stack.ts"), ...args], { env, cwd: devDir });
}

const dirs: string[] = [];
const procs: ManagedProcess[] = [];
async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), "ctrl-devstack-"));
  dirs.push(dir);
  return dir;
}

const pidFiles: string[] = [];
afterEach(async () => {
  // A failed assertion must not leave a stack running: SIGTERM makes it stop its own children.
  await Promise.all(procs.splice(0).map((p) => p.stop(30_000)));
  // A stack killed on purpose cannot: end the process groups it recorded (all started by this file).
  for (const file of pidFiles.splice(0)) for (const l of await leftoverProcesses(file)) killGroup(l.pid);
  // And anything else of a stack of this file (e.g. krane's instances): their command lines name its data dir.
  for (const dir of dirs) for (const p of processesMentioning(dir + "/")) killPid(p.pid);
});
function killPid(pid: number) {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}
function killGroup(pgid: number) {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // already gone
  }
}
afterAll(async () => {
  // Leak detector: once every stack of this file has stopped, nothing may still run from their data dirs
  // (krane's instances start asynchronously, so give stragglers a moment to show up).
  await new Promise((r) => setTimeout(r, 1_000));
  const leaked = dirs.flatMap((dir) => processesMentioning(dir + "/"));
  for (const p of leaked) killPid(p.pid);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  const admin = await createConnection({ uri: serverUrl });
  await admin.query(`DROP DATABASE IF EXISTS \`${databaseName}\``);
  await admin.end();
  expect(leaked.map((p) => p.cmdline)).toEqual([]);
});

describe("pnpm dev", () => {
  let mariadbd: string | undefined;
  beforeAll(async () => {
    mariadbd = await findBinary(["mariadbd"], process.env.PATH ?? "");
  });

  it("--check brings the stack up, proves the upload flow and exits 0 with every port released", async () => {
    const { env, ports } = await stackEnv(await tempDir(), { DATABASE_URL: `${serverUrl.replace(/\/$/, "")}/${databaseName}` });
    const stack = startStack(env, ["--check"]);
    procs.push(stack);
    const exit = await stack.exited;
    const out = stack.tail(400);
    expect(exit.code, out).toBe(0);
    expect(out).toMatch(/mysql +│ skipped: using the database in DATABASE_URL/);
    expect(out).toMatch(/root key\s+ctrl_\w+/);
    expect(out).toContain(`curl -sS -X POST http://127.0.0.1:${ports.API}/v2/deploy.generateUploadUrl`);
    expect(out).toMatch(/✓ upload flow works \(\d+ bytes at s3:\/\/ctrl-builds\/proj_\w+\/build_\w+\.tar\.gz\)/);
    // Reverse start order on the way down (the order they were spawned in, which `after` decides).
    const names = (what: string) => [...out.matchAll(new RegExp(`^([\\w-]+) +│ ${what}`, "gm"))].map((m) => m[1]);
    expect(names("started pid").length).toBeGreaterThanOrEqual(4);
    expect(names("stopping \\(pid"), out).toEqual(names("started pid").reverse());
    // Nothing of the stack survives it, not even what krane started in sessions of its own.
    expect(processesMentioning(dataDirOf(env) + "/")).toEqual([]);
    for (const name of ["API", "GRPC", "RESTATE_INGRESS", "RESTATE_ADMIN", "S3", "WORKER", "WORKER_HEALTH", "FRONTLINE", "KRANE"])
      await waitForPortFree(ports[name]!, 5_000);
  });

  it("with a private mariadbd: the printed key and curl work from outside, and SIGTERM stops everything", async (ctx) => {
    // .ci/run installs mariadb-server, so in CI a missing binary is a failure; a laptop without it
    // tests the path above only, and says so in the output.
    if (!mariadbd && process.env.CI) throw new Error("no mariadbd binary on PATH or in the sbin folders: .ci/run installs mariadb-server");
    if (!mariadbd) ctx.skip("no mariadbd binary (apt-get install mariadb-server to run this test)");
    const dataDir = await tempDir();
    const { env, ports } = await stackEnv(dataDir, { CTRL_DEV_MYSQL: "private" });
    delete env.DATABASE_URL;
    const stack = startStack(env);
    procs.push(stack);
    const died = stack.exited.then((e) => Promise.reject(new Error(`the stack exited (code ${e.code}):\n${stack.tail(80)}`)));
    died.catch(() => undefined);
    await Promise.race([
      waitFor("the stack to be up and self-checked", () => stack.tail(400).includes("running; Ctrl-C to stop"), {
        timeoutMs: 90_000,
        intervalMs: 100,
      }),
      died,
    ]);
    const out = stack.tail(400);
    expect(out).toContain(`a private mariadbd on 127.0.0.1:${ports.MYSQL}`);
    expect(out).toContain("✓ upload flow works");

    // What a person does with the summary: copy the key and project id into a curl of their own.
    const key = /root key\s+(ctrl_\w+)/.exec(out)![1]!;
    const projectId = /-d '\{"projectId":"(proj_\w+)"\}'/.exec(out)![1]!;
    const res = await fetch(`http://127.0.0.1:${ports.API}/v2/deploy.generateUploadUrl`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ projectId }),
    });
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: { uploadUrl: string } };
    expect((await fetch(data.uploadUrl, { method: "PUT", body: new Uint8Array([0x1f, 0x8b, 0, 0]) })).status).toBe(200);

    stack.child.kill("SIGTERM");
    const exit = await stack.exited;
    expect(exit.code, stack.tail(80)).toBe(0);
    expect(stack.tail(80)).toMatch(/mysql +│ stopping/);
    expect(processesMentioning(dataDir + "/")).toEqual([]);
    for (const port of Object.values(ports)) await waitForPortFree(port, 5_000);
  });

  it("after the stack itself is SIGKILLed, the next run names the leftover processes and how to stop them", async () => {
    const dataDir = await tempDir();
    const { env, ports } = await stackEnv(dataDir, { DATABASE_URL: `${serverUrl.replace(/\/$/, "")}/${databaseName}` });
    const first = startStack(env);
    procs.push(first);
    pidFiles.push(join(dataDir, "pids.json"));
    const died = first.exited.then((e) => Promise.reject(new Error(`the stack exited (code ${e.code}):\n${first.tail(80)}`)));
    died.catch(() => undefined);
    await Promise.race([
      waitFor("the first stack to be up", () => first.tail(400).includes("running; Ctrl-C to stop"), {
        timeoutMs: 90_000,
        intervalMs: 100,
      }),
      died,
    ]);
    // The stack process killed the way a crash or `kill -9` would: its services keep running.
    const stackPid = Number(/dev\s+│ pid (\d+);/.exec(first.tail(400))![1]);
    expect(stackPid).toBe(first.child.pid);
    first.child.kill("SIGKILL");

    const second = startStack(env, ["--check"]);
    procs.push(second);
    const exit = await second.exited;
    const out = second.tail(100);
    expect(exit.code, out).toBe(1);
    expect(out).toContain("An earlier `pnpm dev` was killed without stopping its processes; these still run:");
    const killLine = /Stop them with: kill -- ((?:-?\d+ ?)+)/.exec(out);
    expect(killLine, out).not.toBeNull();
    const targets = killLine![1]!.trim().split(" ").map(Number);
    for (const name of ["restate", "s3", "ctrl-worker", "ctrl-api"]) expect(out).toMatch(new RegExp(`  ${name}  pid \\d+`));
    // Following the printed advice (a plain `kill`, SIGTERM) ends everything of that stack and frees
    // every port. These processes were all started by this test's stack.
    for (const target of targets) {
      try {
        process.kill(target, "SIGTERM"); // negative: a process group
      } catch {
        // already gone
      }
    }
    await waitFor(
      "the leftovers to be gone",
      async () => {
        const left = await leftoverProcesses(join(dataDir, "pids.json"));
        if (left.length) throw new Error(`still running: ${left.map((l) => l.name).join(", ")}`);
        return true;
      },
      { timeoutMs: 30_000 },
    );
    await waitFor("nothing to mention the data dir", () => processesMentioning(dataDir + "/").length === 0, { timeoutMs: 30_000 });
    for (const name of ["API", "GRPC", "RESTATE_INGRESS", "RESTATE_ADMIN", "S3", "WORKER", "WORKER_HEALTH"])
      await waitForPortFree(ports[name]!, 10_000);
  });

  it("refuses to start when a port is taken, naming the port and its owner in the stack", async () => {
    const { env, ports } = await stackEnv(await tempDir(), { DATABASE_URL: `${serverUrl.replace(/\/$/, "")}/${databaseName}` });
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(ports.RESTATE_ADMIN, "127.0.0.1", r));
    try {
      const stack = startStack(env, ["--check"]);
      procs.push(stack);
      const exit = await stack.exited;
      const out = stack.tail(100);
      expect(exit.code, out).toBe(1);
      expect(out).toContain(`${ports.RESTATE_ADMIN}  (restate admin)`);
      expect(out).not.toContain("started pid");
    } finally {
      blocker.close();
    }
  });

  it("stops everything it started when the reader of its output goes away (`pnpm dev | tee`, then Ctrl-C)", async () => {
    const dataDir = await tempDir();
    const { env, ports } = await stackEnv(dataDir, { DATABASE_URL: `${serverUrl.replace(/\/$/, "")}/${databaseName}` });
    const stack = startStack(env);
    procs.push(stack);
    pidFiles.push(join(dataDir, "pids.json"));
    const died = stack.exited.then((e) => Promise.reject(new Error(`the stack exited (code ${e.code}):\n${stack.tail(80)}`)));
    died.catch(() => undefined);
    await Promise.race([
      waitFor("the stack to be up", () => stack.tail(400).includes("running; Ctrl-C to stop"), { timeoutMs: 90_000, intervalMs: 100 }),
      died,
    ]);
    expect((await leftoverProcesses(join(dataDir, "pids.json"))).length).toBeGreaterThan(3);
    // Ctrl-C in a terminal signals the whole pipeline: `tee` dies at once, so the stack's output has no
    // reader while it stops (every write is EPIPE). Close our end of its stdout first, then SIGINT it.
    stack.child.stdout?.destroy();
    process.kill(stack.child.pid!, "SIGINT");
    const exit = await Promise.race([
      stack.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the stack did not exit:\n${stack.tail(80)}`)), 60_000)),
    ]);
    expect(exit.signal, stack.tail(80)).toBeNull();
    expect(await leftoverProcesses(join(dataDir, "pids.json"))).toEqual([]);
    await waitFor("nothing to mention the data dir", () => processesMentioning(dataDir + "/").length === 0, { timeoutMs: 15_000 });
    for (const name of ["API", "GRPC", "RESTATE_INGRESS", "RESTATE_ADMIN", "S3", "WORKER", "WORKER_HEALTH"])
      await waitForPortFree(ports[name]!, 10_000);
  });
});
