/**
 * Lifecycle promises of the process driver, with real artifacts from a real s3rver and real child
 * processes: liveness (an instance that stops answering after it was healthy becomes `pending` after
 * `livenessFailures` misses, not at the first), the restart counter resets after a stable period, a
 * half-finished download left by an agent that died mid-pull is removed by the next agent, and
 * instance logs survive an agent restart.
 */
import { createStorage, type Storage } from "@ctrl/s3";
import { waitFor, type S3Server } from "@ctrl/testing";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ProcessDriver, type ProcessDriverOptions } from "../src/drivers/process/driver.js";
import type { ObservedWorkload } from "../src/workload.js";
import { stopRecordedInstances } from "./agent-harness.js";
import { deployment, getJson, probeDir, pushArtifact, startArtifactStore, supervisorPolicy } from "./helpers.js";

let s3: S3Server;
let storage: Storage;
let probe: string;
const drivers: ProcessDriver[] = [];
const dataDirs: string[] = [];
const servers: Server[] = [];
let portBase = 0;

// Fast restarts, a short stable period and quick liveness checks: the lifecycle is what is probed.
const policy = supervisorPolicy({
  restartBackoffMs: 50,
  restartBackoffMaxMs: 100,
  maxRestarts: 2,
  stableAfterMs: 1_500,
  livenessIntervalMs: 200,
});

beforeAll(async () => {
  ({ s3, storage } = await startArtifactStore());
  probe = await pushArtifact(storage, probeDir, "probe");
  portBase = 33_000 + (process.pid % 200) * 20;
});

/** Drivers a test let "die" (never closed by the test itself); closed here even when the test failed. */
const abandoned: ProcessDriver[] = [];

afterEach(async () => {
  // A "dead" driver may be stuck in a pull through a stalling endpoint: cut those first, then stop it
  // before its retry timers start an instance nobody tracks.
  for (const s of servers) s.closeAllConnections();
  for (const d of abandoned.splice(0)) await d.close().catch(() => undefined);
  for (const d of drivers.splice(0)) {
    for (const w of d.list("deployment")) await d.delete("deployment", w.name);
    await d.close();
  }
  // Instances a test left to a "crashed" driver (never closed) are ended through their records.
  for (const dir of dataDirs) await stopRecordedInstances(dir);
});

afterAll(async () => {
  for (const s of servers) s.closeAllConnections(), s.close();
  storage?.destroy();
  await s3?.dispose();
  for (const d of dataDirs) await rm(d, { recursive: true, force: true });
});

async function newDriver(dataDir: string, overrides: Partial<ProcessDriverOptions> = {}): Promise<ProcessDriver> {
  const driver = new ProcessDriver({
    dataDir,
    storage,
    region: "local",
    portRange: { low: portBase, high: portBase + 19 },
    advertiseHost: "127.0.0.1",
    policy,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    logMaxBytes: 1024 * 1024,
    logKeep: 2,
    baseEnv: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    pullRetryMs: 100,
    ...overrides,
  });
  await driver.start();
  drivers.push(driver);
  return driver;
}

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "krane-lifecycle-"));
  dataDirs.push(dir);
  return dir;
}

function until(driver: ProcessDriver, name: string, what: string, check: (w: ObservedWorkload) => boolean, timeoutMs = 20_000) {
  return waitFor(
    `${name}: ${what}`,
    () => {
      const w = driver.observe("deployment", name);
      return w !== undefined && check(w) ? w : undefined;
    },
    { timeoutMs, intervalMs: 10 },
  );
}

const running = (w: ObservedWorkload) => w.instances.length === w.desiredReplicas && w.instances.every((i) => i.phase === "running");
const post = (address: string, path: string) => fetch(`http://${address}${path}`, { method: "POST" }).then((r) => r.status);
const checks = async (address: string) => ((await getJson(address)) as { checks: { healthy: number; unhealthy: number } }).checks;

describe("process driver lifecycle", () => {
  it("liveness: a healthy instance that stops answering stays running through two misses and is pending after the third", async () => {
    const driver = await newDriver(await dataDir());
    await driver.apply(deployment("sickly", probe));
    const w = await until(driver, "sickly", "running", running);
    const address = w.instances[0]!.address;
    expect(await post(address, "/sicken")).toBe(204);
    // Sample (misses so far, then the phase): a sample with 2 misses and still running proves the
    // first misses are tolerated; the wait proves the third one turns it pending.
    const samples: Array<{ misses: number; phase: string }> = [];
    const pending = await waitFor(
      "the instance to be pending",
      async () => {
        const misses = (await checks(address)).unhealthy;
        const instance = driver.observe("deployment", "sickly")!.instances[0]!;
        samples.push({ misses, phase: instance.phase });
        return instance.phase === "pending" ? instance : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 5 },
    );
    expect(
      samples.some((s) => s.misses === 2 && s.phase === "running"),
      JSON.stringify(samples),
    ).toBe(true);
    expect(samples.filter((s) => s.phase === "pending").every((s) => s.misses >= policy.livenessFailures - 1)).toBe(true);
    expect((await checks(address)).unhealthy).toBeGreaterThanOrEqual(policy.livenessFailures);
    expect(pending.failureReason).toMatch(/stopped answering 200/);
  });

  it("resets the restart counter after a stable period: crashes spread over time never exhaust maxRestarts", async () => {
    const dir = await dataDir();
    const driver = await newDriver(dir);
    await driver.apply(deployment("phoenix", probe));
    let w = await until(driver, "phoenix", "running", running);
    const stateFile = join(
      dir,
      "instances",
      (await readdir(join(dir, "instances"))).find((f) => f.includes("phoenix") && f.endsWith(".json"))!,
    );
    const failures = async () => (JSON.parse(await readFile(stateFile, "utf8")) as { failures: number }).failures;

    // One crash: restarted, the counter at 1.
    const crashAndRecover = async () => {
      // `boot` is unique per process start (a sandboxed app's pid repeats in each fresh pid namespace).
      const boot = (await getJson(w.instances[0]!.address)).boot;
      await post(w.instances[0]!.address, "/crash");
      // Running again means: the driver says so and a different process answers at its address.
      w = await waitFor(
        "a restarted, running instance",
        async () => {
          const x = driver.observe("deployment", "phoenix")!;
          if (!running(x)) return undefined;
          const now = await getJson(x.instances[0]!.address).catch(() => undefined);
          return now && now.boot !== boot ? x : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 10 },
      );
    };
    await crashAndRecover();
    expect(await failures()).toBe(1);
    // Stable for stableAfterMs: the counter goes back to 0 (persisted in the instance's record).
    await waitFor("the restart counter to reset", async () => (await failures()) === 0, { timeoutMs: 10_000, intervalMs: 50 });
    // maxRestarts (2) more crashes in quick succession are still restarted: without the reset, the
    // second would have been the third failure in a row and the instance would have given up.
    for (let i = 0; i < policy.maxRestarts; i++) await crashAndRecover();
    expect(driver.observe("deployment", "phoenix")!.instances[0]!.phase).toBe("running");
    expect(await failures()).toBe(policy.maxRestarts);
  });

  it("removes a half-finished download left by an agent that died mid-pull, then pulls the artifact whole", async () => {
    // An S3 endpoint in front of s3rver that sends half of every object and then stalls: the first
    // agent's download stops there, with its partial archive on disk.
    let stalled = 0;
    const stalling = createServer((req, res) => {
      const target = new URL(s3.endpoint);
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          const total = Number(up.headers["content-length"] ?? 0);
          if (req.method !== "GET" || total < 64) return void up.pipe(res);
          let sent = 0;
          up.on("data", (chunk: Buffer) => {
            const room = Math.floor(total / 2) - sent;
            if (room <= 0) return;
            const part = chunk.subarray(0, room);
            sent += part.length;
            res.write(part);
            if (sent >= Math.floor(total / 2)) stalled++, up.pause();
          });
        },
      );
      req.pipe(upstream);
    });
    servers.push(stalling);
    await new Promise<void>((r) => stalling.listen(0, "127.0.0.1", r));
    const stallingStorage = createStorage({
      endpoint: `http://127.0.0.1:${(stalling.address() as { port: number }).port}`,
      region: "us-east-1",
      bucket: "ctrl-builds",
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    });

    const dir = await dataDir();
    const first = await newDriver(dir, { storage: stallingStorage });
    drivers.splice(drivers.indexOf(first), 1); // it "dies": never closed, never cleans up
    abandoned.push(first);
    await first.apply(deployment("halfway", probe));
    const artifacts = join(dir, "artifacts");
    // The download writes `<sha>.<tag>.tar.gz.part-<random>` until the object is complete.
    const partial = await waitFor(
      "a partial download on disk",
      async () => {
        const files = (await readdir(artifacts)).filter((f) => f.includes(".tar.gz.part-"));
        if (stalled === 0 || files.length !== 1) return undefined;
        return (await stat(join(artifacts, files[0]!))).size > 0 ? files[0] : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 10 },
    );

    const second = await newDriver(dir);
    expect(await readdir(artifacts)).not.toContain(partial);
    await second.apply(deployment("halfway", probe));
    const w = await until(second, "halfway", "running from a whole artifact", running);
    expect((await getJson(w.instances[0]!.address)).pid).toBeGreaterThan(0);
    expect((await readdir(artifacts)).filter((f) => f.includes(".tar.gz") || f.endsWith(".tmp"))).toEqual([]);
    stallingStorage.destroy();
  });

  it("keeps an instance's logs across an agent restart, and keeps collecting them", async () => {
    const dir = await dataDir();
    const first = await newDriver(dir);
    await first.apply(deployment("chatty", probe));
    const w = await until(first, "chatty", "running", running);
    const address = w.instances[0]!.address;
    expect(await post(address, "/say/before-restart")).toBe(204);
    await waitFor("the line in the log", async () => (await first.logs("chatty-0", 50))?.includes("probe says before-restart"));
    // The agent goes away without stopping its instances (as a crash would, minus the SIGKILL).
    drivers.splice(drivers.indexOf(first), 1);
    await first.close();

    const second = await newDriver(dir);
    await until(second, "chatty", "adopted", running);
    expect(await second.logs("chatty-0", 50)).toContain("probe says before-restart");
    expect(await post(address, "/say/after-restart")).toBe(204);
    const lines = await waitFor("the new line too", async () => {
      const l = await second.logs("chatty-0", 50);
      return l?.includes("probe says after-restart") ? l : undefined;
    });
    expect(lines.indexOf("probe says before-restart")).toBeLessThan(lines.indexOf("probe says after-restart"));
  });
});
