// Long because the process-driver cases share one artifact store and sandbox set-up.
import type { Storage } from "@ctrl/s3";
import { waitFor, type S3Server } from "@ctrl/testing";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { kraneConfigSchema } from "../src/config.js";
import { ProcessDriver, type ProcessDriverOptions } from "../src/drivers/process/driver.js";
import { instanceBaseEnv } from "../src/instance-env.js";
import type { ObservedWorkload } from "../src/workload.js";
import {
  deployment,
  getJson,
  helloDir,
  hostPid,
  pidAlive,
  probeDir,
  pushArtifact,
  startArtifactStore,
  supervisorPolicy,
} from "./helpers.js";

// Guarantees of the process driver, without a control plane: real artifacts from a real s3rver,
// real child processes, real HTTP health checks.
let s3: S3Server;
let storage: Storage;
let hello: string;
let probe: string;
const drivers: ProcessDriver[] = [];
const dataDirs: string[] = [];
let portBase = 0;

const policy = supervisorPolicy();

beforeAll(async () => {
  ({ s3, storage } = await startArtifactStore());
  hello = await pushArtifact(storage, helloDir, "hello");
  probe = await pushArtifact(storage, probeDir, "probe");
  portBase = 30_000 + (process.pid % 200) * 50;
});

afterEach(async () => {
  // Stop everything a test started (by the driver's own records), then drop the driver.
  for (const d of drivers.splice(0)) {
    for (const kind of ["deployment", "sentinel"] as const) for (const w of d.list(kind)) await d.delete(kind, w.name);
    await d.close();
  }
});

afterAll(async () => {
  storage?.destroy();
  await s3?.dispose();
  for (const d of dataDirs) await rm(d, { recursive: true, force: true });
});

async function newDriver(dataDir?: string, overrides: Partial<ProcessDriverOptions> = {}): Promise<ProcessDriver> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), "krane-driver-")));
  if (!dataDir) dataDirs.push(dir);
  const driver = new ProcessDriver({
    dataDir: dir,
    storage,
    region: "local",
    portRange: { low: portBase, high: portBase + 49 },
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

const allRunning = (w: ObservedWorkload) => w.instances.length === w.desiredReplicas && w.instances.every((i) => i.phase === "running");

async function pidOf(address: string): Promise<number> {
  return hostPid(address);
}

describe("process driver", () => {
  it("downloads once, starts the replicas with PORT and ids, and reports running once healthy", async () => {
    const driver = await newDriver();
    const changes: string[] = [];
    driver.onChange((_k, name) => changes.push(name));
    await driver.apply(deployment("hello", hello, { replicas: 2 }));
    const w = await until(driver, "hello", "2 running", allRunning);
    expect(new Set(w.instances.map((i) => i.address)).size).toBe(2);
    for (const instance of w.instances) {
      const body = await getJson(instance.address);
      expect(body).toMatchObject({ message: "hello from ctrl", deploymentId: "d_hello", instanceId: instance.name, region: "local" });
      expect((await fetch(`http://${instance.address}/openapi.json`)).status).toBe(200);
    }
    expect(w.instances.map((i) => i.name).sort()).toEqual(["hello-0", "hello-1"]);
    expect(changes).toContain("hello");
    // One unpacked copy shared by both instances.
    expect(driver.pullTimings.size).toBe(1);
    const logs = await driver.logs("hello-0", 10);
    expect(logs?.join("\n")).toMatch(/hello listening on \d+ as hello-0/);
    expect(await driver.logs("nope-0", 10)).toBeUndefined();
    expect(await driver.logs("../../etc/passwd", 10)).toBeUndefined();
  });

  // Sandboxed (the default) the instance gets only the sandbox's PATH/HOME; with KRANE_SANDBOX=none
  // the agent's allow-list (instanceBaseEnv) decides. Neither may let an agent secret through.
  it.each([
    ["sandboxed", "bwrap"],
    ["unsandboxed (KRANE_SANDBOX=none)", "none"],
  ] as const)("passes the deployment env, the command override and the memory limit (NODE_OPTIONS), %s", async (_label, mode) => {
    // The agent's real allow-list (main.ts uses instanceBaseEnv) over an environment that holds every
    // variable the agent's config knows, each set to a recognisable secret, plus control-plane ones.
    const agentEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: "mysql://root:dbsecret@db/ctrl",
      RESTATE_ADMIN_URL: "http://restate:9070",
      VAULT_MASTER_KEYS: "k1:vaultsecret",
    };
    for (const name of Object.keys(kraneConfigSchema.shape)) agentEnv[name] = `secret-${name}`;
    const driver = await newDriver(undefined, {
      baseEnv: instanceBaseEnv(agentEnv),
      ...(mode === "none" ? { sandbox: "none" as const } : {}),
    });
    await driver.apply(
      deployment(`envy-${mode}`, probe, { env: { GREETING: "hi" }, memoryMib: 256, command: ["node", "server.js", "--flag"] }),
    );
    const w = await until(driver, `envy-${mode}`, "running", allRunning);
    const body = await getJson(w.instances[0]!.address);
    const env = body.env as Record<string, string>;
    expect(env.GREETING).toBe("hi");
    expect(env.NODE_OPTIONS).toBe("--max-old-space-size=192");
    expect(env.CTRL_DEPLOYMENT_ID).toBe(`d_envy-${mode}`);
    expect(env.PORT).toBe(w.instances[0]!.address.split(":")[1]);
    // The agent's own environment (its token!) never leaks into instances.
    expect(Object.keys(env).filter((k) => /^(KRANE_|S3_|DATABASE_|RESTATE_|VAULT_)/.test(k))).toEqual([]);
    expect(Object.values(env).filter((v) => v.includes("secret"))).toEqual([]);
    expect(env.PATH).toBe(mode === "none" ? process.env.PATH : "/usr/local/bin:/usr/bin:/bin");
  });

  it("stays pending while the health path does not answer 200", async () => {
    const driver = await newDriver();
    await driver.apply(deployment("sick", probe, { env: { MODE: "unhealthy" } }));
    const w = await until(driver, "sick", "instance started", (x) => x.instances[0]?.address !== "");
    const address = w.instances[0]!.address;
    // Not one glance: the phase is sampled at every poll while the driver runs five failing checks.
    const phases = new Set<string>();
    await waitFor(
      "five failed health checks",
      async () => {
        phases.add(driver.observe("deployment", "sick")!.instances[0]!.phase);
        const res = await fetch(`http://${address}/`).catch(() => undefined);
        return res?.status === 200 && ((await res.json()) as { checks: { unhealthy: number } }).checks.unhealthy >= 5;
      },
      { intervalMs: 10 },
    );
    phases.add(driver.observe("deployment", "sick")!.instances[0]!.phase);
    expect([...phases]).toEqual(["pending"]);
    // The reported reason names the probe and its last result (what a readiness_timeout shows).
    const port = address.split(":")[1];
    expect(driver.observe("deployment", "sick")!.instances[0]!.failureReason).toMatch(
      new RegExp(`^health check GET /\\S* on port ${port} \\(the instance's \\$PORT\\): status [45]\\d\\d$`),
    );
  });

  it("restarts a crashing app with backoff, then gives up and stays failed with its exit code", async () => {
    const driver = await newDriver();
    await driver.apply(deployment("crashy", probe, { env: { MODE: "crash", EXIT_CODE: "3" } }));
    const w = await until(driver, "crashy", "failed", (x) => x.instances[0]?.phase === "failed");
    expect(w.instances[0]).toMatchObject({ phase: "failed", exitCode: 3 });
    expect(w.instances[0]!.failureReason).toMatch(/exited with code 3; gave up after 4 failed starts/);
    // The reason carries the end of its output (at most 20 lines), so a failed deploy says why.
    const tail = w.instances[0]!.failureReason!.split("lines of its output:\n")[1]!.split("\n");
    expect(tail.length).toBeGreaterThan(0);
    expect(tail.length).toBeLessThanOrEqual(20);
    expect(tail.some((l) => l.startsWith("probe starting"))).toBe(true);
    const starts = (await driver.logs("crashy-0", 100))!.filter((l) => l.startsWith("probe starting"));
    expect(starts).toHaveLength(policy.maxRestarts + 1);
  });

  it("does not restart an app that halts on purpose (exit 70-72), and reports its intent", async () => {
    const driver = await newDriver();
    await driver.apply(deployment("halter", probe, { env: { MODE: "halt" } }));
    const w = await until(driver, "halter", "failed", (x) => x.instances[0]?.phase === "failed");
    expect(w.instances[0]).toMatchObject({ phase: "failed", exitCode: 71, haltIntent: "missing_config" });
    expect(w.instances[0]!.failureReason).toMatch(/halted on purpose/);
    const starts = (await driver.logs("halter-0", 100))!.filter((l) => l.startsWith("probe starting"));
    expect(starts).toHaveLength(1);
  });

  it("fails fast with image_pull_failed for a container image and for a digest mismatch, starting nothing", async () => {
    const driver = await newDriver();
    await driver.apply(deployment("docker", "ghcr.io/acme/app:1.0", { replicas: 2 }));
    const wrong = hello.replace(/sha256:(.)/, (_m, c: string) => `sha256:${c === "0" ? "1" : "0"}`);
    await driver.apply(deployment("tampered", wrong));
    const a = await until(driver, "docker", "failed", (x) => x.instances.every((i) => i.phase === "failed"));
    expect(a.instances).toHaveLength(2);
    expect(a.instances[0]!.failureReason).toMatch(/^image_pull_failed: .*not an artifact reference/);
    const b = await until(driver, "tampered", "failed", (x) => x.instances[0]?.phase === "failed");
    expect(b.instances[0]!.failureReason).toMatch(/^image_pull_failed: .*has sha256 .*, expected/);
    expect(b.instances[0]!.address).toBe("");
  });

  it("scales down and deletes: the processes exit, the instances and state files disappear", async () => {
    const driver = await newDriver();
    await driver.apply(deployment("scale", hello, { replicas: 3 }));
    const w = await until(driver, "scale", "3 running", allRunning);
    const pids = await Promise.all(w.instances.map((i) => pidOf(i.address)));
    await driver.apply(deployment("scale", hello, { replicas: 1 }));
    await until(driver, "scale", "1 instance", (x) => x.instances.length === 1);
    await waitFor("scaled-down processes to exit", async () => !(await pidAlive(pids[1]!)) && !(await pidAlive(pids[2]!)));
    expect(await pidAlive(pids[0]!)).toBe(true);

    await driver.delete("deployment", "scale");
    expect(driver.observe("deployment", "scale")).toBeUndefined();
    await waitFor("the last process to exit", async () => !(await pidAlive(pids[0]!)));
    const dataDir = dataDirs[dataDirs.length - 1]!;
    await waitFor(
      "state files removed",
      async () => (await readdir(join(dataDir, "instances"))).filter((f) => f.startsWith("deployment--scale")).length === 0,
    );
    expect(existsSync(join(dataDir, "workloads", "deployment", "scale.json"))).toBe(false);

    // Housekeeping: with no retention, the unused artifact and the gone instances' logs are removed;
    // with the default retention (24 h) nothing this fresh is.
    expect(await driver.prune()).toEqual({ artifacts: [], logs: [] });
    const pruned = await driver.prune(-1);
    expect(pruned.artifacts).toEqual([hello.split("sha256:")[1]]);
    expect(pruned.logs.sort()).toEqual(["deployment--scale-0.log", "deployment--scale-1.log", "deployment--scale-2.log"]);
    expect(await readdir(join(dataDir, "artifacts"))).toEqual([]);
  });

  it("sends SIGKILL to an app that ignores SIGTERM after the grace period", async () => {
    const driver = await newDriver();
    await driver.apply(deployment("stubborn", probe, { env: { MODE: "ignore-term" } }));
    const w = await until(driver, "stubborn", "running", allRunning);
    const pid = await pidOf(w.instances[0]!.address);
    await driver.delete("deployment", "stubborn");
    await waitFor("the stubborn app to die", async () => !(await pidAlive(pid)), { timeoutMs: 10_000 });
    expect((await driver.logs("stubborn-0", 5))!.join("\n")).toContain("ignoring SIGTERM");
  });

  it("moves an instance whose port someone else took while it was down, instead of crash-looping on it", async () => {
    const driver = await newDriver(undefined, { policy: { ...policy, restartBackoffMs: 300 } });
    await driver.apply(deployment("mover", hello));
    const w = await until(driver, "mover", "running", allRunning);
    const address = w.instances[0]!.address;
    const port = Number(address.split(":")[1]);
    process.kill(await pidOf(address), "SIGKILL");
    // Grab the port as soon as the dead instance releases it (before the restart backoff ends).
    const squatter = createServer();
    await waitFor(
      "the port to be ours",
      () =>
        new Promise<boolean>((resolve) => {
          squatter.once("error", () => resolve(false));
          squatter.listen(port, "0.0.0.0", () => resolve(true));
        }),
      { intervalMs: 5 },
    );
    try {
      const moved = await until(driver, "mover", "running on another port", (x) => allRunning(x) && x.instances[0]!.address !== address);
      expect(await getJson(moved.instances[0]!.address)).toMatchObject({ instanceId: "mover-0" });
    } finally {
      squatter.close();
    }
  });

  it("replaces instances of a changed spec one at a time (the others keep serving); a bad new image keeps the old ones", async () => {
    const driver = await newDriver();
    await driver.apply(deployment("roll", hello, { replicas: 3 }));
    const v1 = await until(driver, "roll", "3 running", allRunning);
    const oldPids = await Promise.all(v1.instances.map((i) => pidOf(i.address)));

    // The number of running instances, sampled from before the bad image until the roll is done:
    // a wrong implementation that stops an old instance at any point shows up as a dip, whenever it
    // happens (no fixed window to wait out).
    // "Serving" is checked by asking each instance, not by the driver's own view of it.
    const serving = async () => {
      const addresses = driver
        .observe("deployment", "roll")!
        .instances.filter((i) => i.phase === "running")
        .map((i) => i.address);
      const answers = await Promise.all(
        addresses.map((a) =>
          fetch(`http://${a}/`).then(
            (r) => (void r.body?.cancel(), r.status === 200),
            () => false,
          ),
        ),
      );
      return answers.filter(Boolean).length;
    };
    let samples: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await serving());
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      // A new image that cannot be pulled: nothing is stopped. The failure is reported as a failed
      // instance of the new image beside the three old ones, which keep running.
      await driver.apply(deployment("roll", "ghcr.io/acme/next:2", { replicas: 3 }));
      const afterBad = await waitFor("the pull failure to be reported beside the running old instances", () => {
        const w = driver.observe("deployment", "roll")!;
        const failed = w.instances.filter((i) => i.phase === "failed");
        const ok =
          w.instances.filter((i) => i.phase === "running").length === 3 &&
          failed.length === 1 &&
          failed[0]!.image === "ghcr.io/acme/next:2" &&
          /^image_pull_failed/.test(failed[0]!.failureReason ?? "");
        return ok ? w : undefined;
      });
      samples.push(await serving());
      const running = afterBad.instances.filter((i) => i.phase === "running");
      expect(await Promise.all(running.map((i) => pidOf(i.address)))).toEqual(oldPids);
      expect(Math.min(...samples)).toBe(3);

      // A real new spec: rolled one by one, never fewer than 2 of 3 running.
      samples = [];
      await driver.apply(deployment("roll", hello, { replicas: 3, env: { VERSION: "2" } }));
      const newPids = await waitFor(
        "3 running instances, none of them old",
        async () => {
          const w = driver.observe("deployment", "roll")!;
          if (!allRunning(w)) return undefined;
          const pids = await Promise.all(w.instances.map((i) => pidOf(i.address)));
          return pids.some((p) => oldPids.includes(p)) ? undefined : pids;
        },
        { timeoutMs: 30_000 },
      );
      expect(newPids).toHaveLength(3);
      await waitFor("every old process gone", async () => (await Promise.all(oldPids.map(pidAlive))).every((alive) => !alive));
    } finally {
      sampling = false;
      await sampler;
    }
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(2);
  });

  it("after an agent restart: adopts live instances, replaces dead ones once, stops undesired ones", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "krane-adopt-"));
    dataDirs.push(dataDir);
    const first = await newDriver(dataDir);
    await first.apply(deployment("keep", hello, { replicas: 3 }));
    await first.apply(deployment("gone", hello, { replicas: 1 }));
    const keep = await until(first, "keep", "3 running", allRunning);
    const gone = await until(first, "gone", "running", allRunning);
    const keepPids = await Promise.all(keep.instances.map((i) => pidOf(i.address)));
    const gonePid = await pidOf(gone.instances[0]!.address);
    // The agent goes away without stopping anything (as a crash would, minus the SIGKILL).
    await first.close();
    drivers.splice(drivers.indexOf(first), 1);
    // While it is down: one instance dies, "gone" stops being desired, and instance 2 loses its
    // record (as when an agent is killed between spawning an instance and writing its record).
    process.kill(keepPids[1]!, "SIGKILL");
    await waitFor("instance 1 to die", async () => !(await pidAlive(keepPids[1]!)));
    await rm(join(dataDir, "workloads", "deployment", "gone.json"));
    await rm(join(dataDir, "instances", "deployment--keep-2.json"));

    const second = await newDriver(dataDir);
    const after = await until(second, "keep", "3 running again", allRunning);
    const afterPids = await Promise.all(after.instances.map((i) => pidOf(i.address)));
    expect(afterPids[0]).toBe(keepPids[0]); // adopted, not restarted
    expect(afterPids[1]).not.toBe(keepPids[1]); // replaced
    expect(afterPids[2]).not.toBe(keepPids[2]); // the orphan was killed and replaced, not duplicated
    await waitFor("the orphan to be dead", async () => !(await pidAlive(keepPids[2]!)));
    await waitFor("the undesired instance to be stopped", async () => !(await pidAlive(gonePid)));
    expect(second.observe("deployment", "gone")).toBeUndefined();
    // No duplicates: exactly one state file per desired instance.
    const records = (await readdir(join(dataDir, "instances"))).filter((f) => f.endsWith(".json"));
    expect(records.sort()).toEqual(["deployment--keep-0.json", "deployment--keep-1.json", "deployment--keep-2.json"]);

    // An adopted instance's exit is still noticed (by polling) and it is restarted.
    process.kill(afterPids[0]!, "SIGKILL");
    await until(
      second,
      "keep",
      "instance 0 restarted",
      (x) => x.instances[0]!.phase !== "running" || x.instances[0]!.exitCode !== undefined,
      10_000,
    );
    const restarted = await until(second, "keep", "running after restart", allRunning);
    expect(await pidOf(restarted.instances[0]!.address)).not.toBe(afterPids[0]);
    const state = JSON.parse(await readFile(join(dataDir, "instances", "deployment--keep-0.json"), "utf8")) as { failures: number };
    expect(state.failures).toBe(1);
  });
});
