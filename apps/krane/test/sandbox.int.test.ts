/**
 * The process driver runs tenant instances in the bubblewrap sandbox (the default): the hostile
 * example escapes nothing while it keeps serving; an instance runs as its own unprivileged uid;
 * decrypted variables never reach the data directory; adoption after an agent restart, stop and
 * the group kill still work, and nothing sandboxed is left running afterwards.
 */
import type { Storage } from "@ctrl/s3";
import { waitFor, type S3Server } from "@ctrl/testing";
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProcessDriver, type ProcessDriverOptions } from "../src/drivers/process/driver.js";
import type { ObservedWorkload } from "../src/workload.js";
import {
  deployment,
  getJson,
  helloDir,
  hostPid,
  pidAlive,
  probeDir,
  pushArtifact,
  repoRoot,
  startArtifactStore,
  supervisorPolicy,
} from "./helpers.js";

let s3: S3Server;
let storage: Storage;
let hello: string;
let probe: string;
let hostile: string;
let controlPlane: Server;
let controlPlanePort = 0;
const drivers: ProcessDriver[] = [];
const dataDirs: string[] = [];
const portBase = 36_000 + (process.pid % 100) * 20;
const secret = `krane-secret-${process.pid}-${Date.now()}`;

const policy = supervisorPolicy();

beforeAll(async () => {
  ({ s3, storage } = await startArtifactStore());
  // Something of the "control plane" listening on the host, which no instance may reach.
  controlPlane = createServer((s) => s.end(`${secret}\n`));
  await new Promise<void>((ok) => controlPlane.listen(0, "127.0.0.1", ok));
  controlPlanePort = (controlPlane.address() as { port: number }).port;
  hello = await pushArtifact(storage, helloDir, "hello");
  probe = await pushArtifact(storage, probeDir, "probe");
  // The hostile example, told where the secrets are.
  const dir = await mkdtemp(join(tmpdir(), "krane-hostile-"));
  dataDirs.push(dir);
  // A host file holding the secret, where an agent's data would be.
  const secretFile = join(dir, "agent-secret.txt");
  await cp(join(repoRoot, "examples", "hostile"), dir, { recursive: true });
  await writeFile(
    join(dir, "targets.json"),
    JSON.stringify({
      ports: [controlPlanePort, Number(new URL(s3.endpoint).port), portBase, portBase + 1, portBase + 2],
      paths: [repoRoot, secretFile, join(repoRoot, ".data")],
      secrets: [secret],
    }),
  );
  hostile = await pushArtifact(storage, dir, "hostile");
  await writeFile(secretFile, secret);
  // A secret in the agent's own environment: instances must never see it.
  process.env.KRANE_TEST_SECRET = secret;
});

afterAll(async () => {
  for (const d of drivers.splice(0)) {
    for (const w of d.list("deployment")) await d.delete("deployment", w.name);
    await d.stopInstances();
    await d.close();
  }
  controlPlane?.close();
  storage?.destroy();
  await s3?.dispose();
  for (const d of dataDirs) await rm(d, { recursive: true, force: true });
  delete process.env.KRANE_TEST_SECRET;
});

async function newDriver(dataDir?: string, overrides: Partial<ProcessDriverOptions> = {}): Promise<ProcessDriver> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), "krane-sandbox-")));
  if (!dataDir) dataDirs.push(dir);
  const driver = new ProcessDriver({
    dataDir: dir,
    storage,
    region: "local",
    portRange: { low: portBase, high: portBase + 19 },
    advertiseHost: "127.0.0.1",
    policy,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    logMaxBytes: 1024 * 1024,
    logKeep: 2,
    baseEnv: { PATH: process.env.PATH ?? "/usr/bin:/bin", KRANE_TEST_SECRET: secret },
    pullRetryMs: 100,
    sandboxLimits: { processes: 128 },
    ...overrides,
  });
  await driver.start();
  drivers.push(driver);
  return driver;
}

const allRunning = (w: ObservedWorkload) => w.instances.length === w.desiredReplicas && w.instances.every((i) => i.phase === "running");
function running(driver: ProcessDriver, name: string) {
  return waitFor(`${name} running`, () => {
    const w = driver.observe("deployment", name);
    return w && allRunning(w) ? w : undefined;
  });
}

/** Live processes on the host owned by a sandbox uid of this file's port range. */
async function sandboxProcesses(): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const st = await stat(`/proc/${d}`).catch(() => undefined);
    if (st && st.uid >= 100_000 + portBase && st.uid < 100_000 + portBase + 20 && (await pidAlive(Number(d)))) out.push(Number(d));
  }
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

describe("sandboxed instances", () => {
  it("the hostile app escapes nothing (pid, files, network, writes, setuid, fork bomb) and still serves", async () => {
    const driver = await newDriver();
    await driver.apply(deployment("hostile", hostile, { replicas: 1 }));
    await driver.apply(deployment("neighbour", hello, { replicas: 1 }));
    const w = await running(driver, "hostile");
    const neighbour = await running(driver, "neighbour");
    const address = w.instances[0]!.address;
    const port = Number(address.split(":")[1]);
    expect(await getJson(address)).toMatchObject({ message: "hostile app, still serving its own page", instanceId: "hostile-0" });
    // The neighbour's port (in targets.json) is reachable from the host, never from the hostile sandbox.
    const neighbourPort = Number(neighbour.instances[0]!.address.split(":")[1]);
    expect(neighbourPort).toBeLessThanOrEqual(portBase + 2);
    expect(await getJson(neighbour.instances[0]!.address)).toMatchObject({ message: "hello from ctrl" });
    const report = (await getJson(address, "/report")).app as Record<string, { escaped: boolean; detail: Record<string, unknown> }> & {
      uid: number;
      escapedAny: boolean;
    };
    for (const probe of ["procEnviron", "processes", "network", "files", "writes", "setuid", "forkBomb"])
      expect(report[probe]!.escaped, `${probe}: ${JSON.stringify(report[probe])}`).toBe(false);
    expect(report.escapedAny).toBe(false);
    expect(report.uid).toBe(100_000 + port);
    expect(report.processes!.detail.count).toBeLessThan(10);
    expect((report.forkBomb!.detail.refused as number) > 0).toBe(true);
    // Seen from the host: the app runs as that uid, never root.
    const pid = await hostPid(address);
    expect((await stat(`/proc/${pid}`)).uid).toBe(100_000 + port);
  });

  it("an instance sees exactly its variables plus PORT/CTRL_*, and decrypted values never reach the data dir", async () => {
    const driver = await newDriver(undefined, { decryptEnv: () => ({ env: { GREETING: secret } }) });
    const dataDir = dataDirs[dataDirs.length - 1]!;
    await driver.apply(
      deployment("envy", probe, {
        env: { GREETING: secret },
        encryptedEnv: Buffer.from("opaque vault blob").toString("base64"),
        memoryMib: 256,
      }),
    );
    const w = await running(driver, "envy");
    const env = (await getJson(w.instances[0]!.address)).env as Record<string, string>;
    expect(env.GREETING).toBe(secret);
    const extra = Object.keys(env).filter(
      (k) => !k.startsWith("CTRL_") && !["PORT", "GREETING", "NODE_OPTIONS", "PATH", "HOME"].includes(k),
    );
    expect(extra).toEqual([]);
    expect(env.HOME).toBe("/home/app");
    expect(Object.values(env)).not.toContain(process.env.PATH); // not the agent's PATH either
    for (const f of await filesUnder(dataDir)) expect((await readFile(f)).includes(secret), f).toBe(false);

    // After an agent restart the stored blob is decrypted again and a relaunch gets the value.
    await driver.close();
    drivers.splice(drivers.indexOf(driver), 1);
    const second = await newDriver(dataDir, {
      decryptEnv: (spec) =>
        spec.encryptedEnv === Buffer.from("opaque vault blob").toString("base64") ? { env: { GREETING: secret } } : { error: "wrong blob" },
    });
    const address = (await running(second, "envy")).instances[0]!.address;
    process.kill(await hostPid(address), "SIGKILL");
    const again = await waitFor("a relaunched instance", async () => {
      const cur = second.observe("deployment", "envy")!.instances[0]!;
      if (cur.phase !== "running") return undefined;
      const body = await getJson(cur.address).catch(() => undefined);
      return body && (body.env as Record<string, string>).GREETING ? body : undefined;
    });
    expect((again.env as Record<string, string>).GREETING).toBe(secret);
  });

  it("adopts sandboxed instances after an agent restart, and stop leaves no sandboxed process behind", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "krane-sandbox-adopt-"));
    dataDirs.push(dataDir);
    const first = await newDriver(dataDir);
    await first.apply(deployment("keep", hello, { replicas: 2 }));
    const before = await running(first, "keep");
    const pids = await Promise.all(before.instances.map((i) => hostPid(i.address)));
    await first.close();
    drivers.splice(drivers.indexOf(first), 1);

    const second = await newDriver(dataDir);
    const after = await running(second, "keep");
    expect(await Promise.all(after.instances.map((i) => hostPid(i.address)))).toEqual(pids); // adopted, not restarted
    // The bridged port keeps working across the agent restart.
    for (const i of after.instances) expect(await getJson(i.address)).toMatchObject({ message: "hello from ctrl" });

    await second.delete("deployment", "keep");
    await waitFor("the instances to be gone", async () => (await Promise.all(pids.map(pidAlive))).every((alive) => !alive));
    await waitFor("their private sandbox dirs removed", async () => (await readdir(join(dataDir, "sandboxes"))).length === 0);
  });

  it("nothing sandboxed is left running after the suite's stops", async () => {
    for (const d of drivers.splice(0)) {
      for (const w of d.list("deployment")) await d.delete("deployment", w.name);
      await d.stopInstances();
      await d.close();
    }
    await waitFor("no process of a sandbox uid", async () => (await sandboxProcesses()).length === 0, { timeoutMs: 15_000 });
  });
});
