/**
 * Halt watching of the process driver with real child processes (examples/halting) and real
 * artifacts from a real s3rver. Guarantees (docs/halt-contract.md): an opted-in instance's live
 * `halt_intent` is read from its status path while it runs and reported at once; a stay-alive
 * instance keeps serving it and is terminated after its grace window, never restarted; an instance
 * that announced a halt is not restarted whatever its exit code, and its exit carries the last intent;
 * an app without a status endpoint is judged by its exit code alone.
 */
import type { Storage } from "@ctrl/s3";
import { waitFor, type S3Server } from "@ctrl/testing";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ProcessDriver } from "../src/drivers/process/driver.js";
import type { ObservedWorkload } from "../src/workload.js";
import { deployment, hostPid, pidAlive, pushArtifact, repoRoot, startArtifactStore, supervisorPolicy } from "./helpers.js";

let s3: S3Server;
let storage: Storage;
/** examples/halting with a 1 s grace window. */
let halting: string;
const drivers: ProcessDriver[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  ({ s3, storage } = await startArtifactStore());
  const app = await mkdtemp(join(tmpdir(), "halting-app-"));
  dirs.push(app);
  await cp(join(repoRoot, "examples", "halting"), app, { recursive: true });
  await writeFile(
    join(app, "ctrl.json"),
    JSON.stringify({
      start: ["node", "server.js"],
      healthPath: "/health",
      halt: { statusPath: "/status", stayAlive: true, graceSeconds: 1 },
    }),
  );
  halting = await pushArtifact(storage, app, "halting");
});

afterEach(async () => {
  for (const d of drivers.splice(0)) {
    for (const w of d.list("deployment")) await d.delete("deployment", w.name);
    await d.close();
  }
});

afterAll(async () => {
  storage?.destroy();
  await s3?.dispose();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function newDriver(): Promise<ProcessDriver> {
  const dir = await mkdtemp(join(tmpdir(), "krane-halt-"));
  dirs.push(dir);
  const portBase = 31_000 + (process.pid % 200) * 20;
  const driver = new ProcessDriver({
    dataDir: dir,
    storage,
    region: "local",
    portRange: { low: portBase, high: portBase + 19 },
    advertiseHost: "127.0.0.1",
    policy: supervisorPolicy({ haltPollMs: 100, haltStatusTimeoutMs: 500 }),
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    logMaxBytes: 1024 * 1024,
    logKeep: 2,
    baseEnv: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    pullRetryMs: 100,
  });
  await driver.start();
  drivers.push(driver);
  return driver;
}

function until(driver: ProcessDriver, name: string, what: string, check: (w: ObservedWorkload) => boolean, timeoutMs = 20_000) {
  return waitFor(
    `${name}: ${what}`,
    () => {
      const w = driver.observe("deployment", name);
      return w !== undefined && check(w) ? w : undefined;
    },
    { timeoutMs },
  );
}

async function starts(driver: ProcessDriver, instance: string): Promise<number> {
  return ((await driver.logs(instance, 200)) ?? []).filter((l) => l.startsWith("halting example listening")).length;
}

describe("halt watching", () => {
  it("stay-alive: reads the intent while the process lives, then terminates it after the grace window and never restarts it", async () => {
    const driver = await newDriver();
    await driver.apply(
      deployment("stay", halting, { env: { HALT_CODE: "70", HALT_STAY_ALIVE: "1", HALT_AFTER_MS: "300", HALT_PLAN: "v2" } }),
    );
    const live = await until(driver, "stay", "live intent", (w) => w.instances[0]?.halt !== undefined);
    const instance = live.instances[0]!;
    expect(instance.halt).toMatchObject({ reason: "upgrade_required", planName: "v2" });
    expect(instance.haltIntent).toBe("upgrade_required");
    expect(instance.phase).not.toBe("failed");
    // The process lives and serves the intent the agent reported.
    const pid = await hostPid(instance.address);
    const status = (await (await fetch(`http://${instance.address}/status`)).json()) as { halt_intent: { reason: string } };
    expect(status.halt_intent.reason).toBe("upgrade_required");

    const failed = await until(driver, "stay", "terminated after grace", (w) => w.instances[0]?.phase === "failed");
    expect(failed.instances[0]).toMatchObject({ phase: "failed", haltIntent: "upgrade_required", halt: { reason: "upgrade_required" } });
    expect(failed.instances[0]!.failureReason).toMatch(/halted on purpose/);
    expect(await pidAlive(pid)).toBe(false);
    expect(await starts(driver, "stay-0")).toBe(1);
  });

  it("an instance that announced a halt is not restarted whatever its exit code; the exit carries the last intent", async () => {
    const driver = await newDriver();
    // A grace window long enough that only the app's own exit ends it.
    await driver.apply(deployment("exits", halting, { env: { HALT_CODE: "71", HALT_STAY_ALIVE: "1" } }));
    const live = await until(driver, "exits", "live intent", (w) => w.instances[0]?.halt !== undefined);
    await fetch(`http://${live.instances[0]!.address}/exit?code=1`, { method: "POST" });
    const failed = await until(driver, "exits", "failed", (w) => w.instances[0]?.phase === "failed");
    expect(failed.instances[0]).toMatchObject({ exitCode: 1, haltIntent: "binary_too_new", halt: { reason: "binary_too_new" } });
    expect(await starts(driver, "exits-0")).toBe(1);
  });

  it("without a status endpoint the exit code alone tells (72), and it is not restarted", async () => {
    const driver = await newDriver();
    await driver.apply(
      deployment("old", halting, { env: { HALT_CODE: "72", HALT_NO_STATUS: "1", HALT_AFTER_MS: "300", HALT_EXIT_DELAY_MS: "0" } }),
    );
    const failed = await until(driver, "old", "failed", (w) => w.instances[0]?.phase === "failed");
    expect(failed.instances[0]).toMatchObject({ phase: "failed", exitCode: 72 });
    expect(failed.instances[0]!.halt).toBeUndefined();
    expect(await starts(driver, "old-0")).toBe(1);
  });
});
