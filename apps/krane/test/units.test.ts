import { create } from "@bufbuild/protobuf";
import { ApplyDeploymentSchema, ApplySentinelSchema } from "@ctrl/proto";
import { mkdtemp, readFile, rm, writeFile, appendFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runningImage, sentinelFailure } from "../src/agent.js";
import { loadKraneConfig } from "../src/config.js";
import type { Driver } from "../src/driver.js";
import { rotateIfLarge, tailLog } from "../src/drivers/process/logs.js";
import { PortAllocator } from "../src/drivers/process/ports.js";
import { instanceName, specHash } from "../src/drivers/process/driver.js";
import { createAgentHttpServer } from "../src/http.js";
import { Backoff } from "../src/sync/backoff.js";
import { badName, deploymentWorkload, sentinelWorkload } from "../src/sync/convert.js";
import { CursorStore } from "../src/sync/cursor.js";
import { Reporter } from "../src/sync/reporter.js";
import { WatchLoop } from "../src/sync/watch-loop.js";
import type { ObservedWorkload, WorkloadKind } from "../src/workload.js";
import { deployment } from "./helpers.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "krane-unit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("config", () => {
  // The secrets have no default; everything else does.
  const secrets = {
    KRANE_TOKEN: "ctrl_agent_0123456789abcdefghijklmnopqrstuv",
    S3_ACCESS_KEY_ID: "S3RVER",
    S3_SECRET_ACCESS_KEY: "S3RVER",
  };

  it("has working local defaults", () => {
    const c = loadKraneConfig(secrets);
    expect(c).toMatchObject({
      KRANE_REGION: "local",
      KRANE_DRIVER: "process",
      KRANE_PORT_RANGE: { low: 20000, high: 29999 },
      KRANE_SENTINEL_ENV: {},
    });
  });

  it.each([
    [{ KRANE_PORT_RANGE: "3000" }, /KRANE_PORT_RANGE/],
    [{ KRANE_PORT_RANGE: "4000-3000" }, /KRANE_PORT_RANGE/],
    [{ KRANE_DRIVER: "docker" }, /KRANE_DRIVER/],
    [{ KRANE_TOKEN: "short" }, /KRANE_TOKEN/],
    [{ KRANE_REGION: "a b" }, /KRANE_REGION/],
    [{ KRANE_SENTINEL_ENV: "[1]" }, /KRANE_SENTINEL_ENV/],
    [{ KRANE_CONTROL_PLANE_URL: "nope" }, /KRANE_CONTROL_PLANE_URL/],
  ])("names the bad variable %j", (env, message) => {
    expect(() => loadKraneConfig({ ...secrets, ...env })).toThrow(message);
  });

  it.each(["KRANE_TOKEN", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"])("refuses to start without %s", (name) => {
    const env: Record<string, string> = { ...secrets };
    delete env[name];
    expect(() => loadKraneConfig(env)).toThrow(new RegExp(`${name}: ${name} is required`));
  });
});

describe("sentinel running image", () => {
  it("is the desired image only once every running replica runs it", () => {
    expect(runningImage([], "new")).toBe("");
    expect(runningImage(["new", "new"], "new")).toBe("new");
    expect(runningImage(["old", "old", "new"], "new")).toBe("old");
    expect(runningImage(["old", "new", "new"], "new")).toBe("new");
  });
});

describe("backoff", () => {
  it("grows exponentially with jitter, is capped, and resets", () => {
    const high = new Backoff(100, 1_000, () => 1);
    expect([high.next(), high.next(), high.next(), high.next(), high.next(), high.next()]).toEqual([100, 200, 400, 800, 1000, 1000]);
    high.reset();
    expect(high.next()).toBe(100);
    const low = new Backoff(100, 1_000, () => 0);
    expect([low.next(), low.next(), low.next()]).toEqual([50, 50, 50]);
  });
});

describe("cursor store", () => {
  it("persists, reloads, and ignores a cursor written for another region", async () => {
    const file = join(dir, "cursor.json");
    const a = new CursorStore(file, "local");
    expect(await a.load()).toBe(0n);
    await a.set(18446744073709551615n); // uint64 max survives the round trip
    expect(await new CursorStore(file, "local").load()).toBe(18446744073709551615n);
    expect(await new CursorStore(file, "eu").load()).toBe(0n);
    await writeFile(file, "{garbage");
    expect(await new CursorStore(file, "local").load()).toBe(0n);
  });
});

describe("proto → workload", () => {
  it("maps ApplyDeployment, including the command, port and health path", () => {
    const w = deploymentWorkload(
      create(ApplyDeploymentSchema, {
        k8sName: "d_1",
        deploymentId: "d_1",
        workspaceId: "ws",
        projectId: "p",
        environmentId: "e",
        image: "s3://b/k@sha256:x",
        replicas: 2,
        cpuMillicores: 500n,
        memoryMib: 256n,
        command: ["node", "x.js"],
        port: 8080,
        healthCheckPath: "/hz",
      }),
    );
    expect(w).toMatchObject({
      kind: "deployment",
      name: "d_1",
      id: "d_1",
      replicas: 2,
      cpuMillicores: 500,
      memoryMib: 256,
      command: ["node", "x.js"],
      port: 8080,
      healthCheckPath: "/hz",
      env: {},
    });
    expect(w.envError).toBeUndefined();
  });

  it("refuses to run without variables it cannot decrypt", () => {
    const w = deploymentWorkload(
      create(ApplyDeploymentSchema, { k8sName: "d_1", encryptedEnvironmentVariables: new Uint8Array([1, 2, 3]) }),
    );
    expect(w.envError).toMatch(/^env_decrypt_failed/);
  });

  it("maps ApplySentinel and clamps negative replicas", () => {
    expect(sentinelWorkload(create(ApplySentinelSchema, { k8sName: "sentinel-ab", sentinelId: "se_1", replicas: -1 }))).toMatchObject({
      kind: "sentinel",
      name: "sentinel-ab",
      id: "se_1",
      replicas: 0,
    });
  });

  it.each(["", "../x", "a/b", "-x", "a b", "x".repeat(300)])("rejects the name %j", (name) => {
    expect(badName(name)).toBeDefined();
  });
});

describe("spec hash and names", () => {
  it("changes with what instances are started from, not with replicas or env order", () => {
    const a = deployment("x", "img", { env: { A: "1", B: "2" } });
    expect(specHash({ ...a, replicas: 5 })).toBe(specHash(a));
    expect(specHash({ ...a, env: { B: "2", A: "1" } })).toBe(specHash(a));
    expect(specHash({ ...a, image: "img2" })).not.toBe(specHash(a));
    expect(specHash({ ...a, command: ["x"] })).not.toBe(specHash(a));
    expect(specHash({ ...a, memoryMib: 1 })).not.toBe(specHash(a));
    expect(instanceName("d_1", 2)).toBe("d_1-2");
  });
});

describe("log rotation and tail", () => {
  it("rotates past the size by copy-truncate, keeps N files, and tails across the rotation", async () => {
    const file = join(dir, "app.log");
    await writeFile(file, Array.from({ length: 10 }, (_, i) => `line ${i}`).join("\n") + "\n");
    expect(await rotateIfLarge(file, 10_000, 2)).toBe(false);
    expect(await rotateIfLarge(file, 10, 2)).toBe(true);
    expect(await readFile(file, "utf8")).toBe("");
    await appendFile(file, "line 10\nline 11\n");
    expect(await tailLog(file, 3)).toEqual(["line 9", "line 10", "line 11"]);
    expect(await tailLog(file, 1)).toEqual(["line 11"]);
    await rotateIfLarge(file, 1, 2);
    await appendFile(file, "x".repeat(20));
    await rotateIfLarge(file, 1, 2);
    expect((await readFile(`${file}.2`, "utf8")).split("\n")[0]).toBe("line 10");
    expect(await tailLog(join(dir, "missing.log"), 5)).toEqual([]);
  });

  it("tails a large file without reading all of it into lines", async () => {
    const file = join(dir, "big.log");
    await writeFile(file, Array.from({ length: 50_000 }, (_, i) => `entry ${i} ${"x".repeat(40)}`).join("\n") + "\n");
    const last = await tailLog(file, 2);
    expect(last[1]).toMatch(/^entry 49999 /);
    expect(last[0]).toMatch(/^entry 49998 /);
  });
});

describe("port allocator", () => {
  it("skips reserved ports and ports bound by someone else, and says when the range is exhausted", async () => {
    // Below the ephemeral range (32768+), so outgoing connections never hold these ports.
    const base = 21_000 + (process.pid % 500) * 4;
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(base + 1, "0.0.0.0", ok));
    try {
      const ports = new PortAllocator(base, base + 3);
      ports.reserve(base);
      expect(await ports.allocate()).toBe(base + 2);
      expect(await ports.allocate()).toBe(base + 3);
      await expect(ports.allocate()).rejects.toThrow(/no free port left/);
      ports.release(base + 2);
      expect(await ports.allocate()).toBe(base + 2);
    } finally {
      blocker.close();
    }
  });
});

class FakeDriver implements Pick<Driver, "onChange" | "observe" | "list"> {
  listeners = new Set<(k: WorkloadKind, n: string) => void>();
  state = new Map<string, ObservedWorkload>();
  onChange(l: (k: WorkloadKind, n: string) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  observe(_k: WorkloadKind, n: string) {
    return this.state.get(n);
  }
  list() {
    return [];
  }
  change(name: string, replicas: number) {
    this.state.set(name, { kind: "deployment", name, image: "i", desiredReplicas: replicas, instances: [] });
    for (const l of this.listeners) l("deployment", name);
  }
}

describe("reporter", () => {
  it("coalesces bursts into one report of the latest state, retries failures, and never drops a change", async () => {
    const driver = new FakeDriver();
    const sent: Array<{ name: string; replicas: number | undefined }> = [];
    let failNext = 2;
    const reporter = new Reporter(
      driver as unknown as Driver,
      async (_kind, name, observed) => {
        if (name === "flaky" && failNext-- > 0) throw new Error("control plane down");
        sent.push({ name, replicas: observed?.desiredReplicas });
      },
      { batchWindowMs: 20, concurrency: 4, logger: pino({ level: "silent" }) },
    );
    reporter.start();
    for (let i = 1; i <= 50; i++) driver.change("burst", i);
    driver.change("flaky", 1);
    const deadline = Date.now() + 10_000;
    while (!(sent.some((s) => s.name === "flaky") && sent.some((s) => s.name === "burst" && s.replicas === 50)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    await reporter.stop();
    const bursts = sent.filter((s) => s.name === "burst");
    expect(bursts.at(-1)).toEqual({ name: "burst", replicas: 50 });
    expect(bursts.length).toBeLessThan(5);
    expect(sent.filter((s) => s.name === "flaky")).toEqual([{ name: "flaky", replicas: 1 }]);
  });
});

describe("watch loop", () => {
  it("applies in order, persists the cursor only after applying, skips replays, and resumes from the cursor after a break or a failed apply", async () => {
    const cursor = new CursorStore(join(dir, "watch-cursor.json"), "local");
    await cursor.load();
    const opened: bigint[] = [];
    const applied: bigint[] = [];
    let failOnce = true;
    let connection = 0;
    const loop = new WatchLoop<{ version: bigint }>({
      name: "test",
      cursor,
      backoff: new Backoff(1, 5),
      logger: pino({ level: "silent" }),
      version: (m) => m.version,
      open: (after, signal) => {
        opened.push(after);
        const c = ++connection;
        return (async function* () {
          if (c === 1) {
            yield { version: 1n };
            yield { version: 2n };
            throw new Error("connection reset"); // the control plane went away
          }
          // The server replays from an older point (e.g. a snapshot): 1 and 2 must not be applied again.
          for (const v of [1n, 2n, 3n, 4n]) yield { version: v };
          // Then stays open until the loop aborts it (as a real Connect stream does on its signal).
          await new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }));
        })();
      },
      apply: async (m) => {
        // Cursor persisted for the previous message, never yet for this one.
        expect(cursor.get()).toBeLessThan(m.version);
        if (m.version === 3n && failOnce) {
          failOnce = false;
          throw new Error("disk full");
        }
        applied.push(m.version);
      },
    });
    loop.start();
    const deadline = Date.now() + 5_000;
    while (cursor.get() < 4n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await loop.stop();
    expect(applied).toEqual([1n, 2n, 3n, 4n]);
    expect(opened.slice(0, 3)).toEqual([0n, 2n, 2n]);
    expect(await new CursorStore(join(dir, "watch-cursor.json"), "local").load()).toBe(4n);
  });
});

describe("agent http endpoint", () => {
  it("serves health openly, status and logs behind the bearer token, and validates ?lines", async () => {
    const server = createAgentHttpServer({
      token: "secret-token-0123456789",
      status: () => ({ region: "local" }),
      logs: async (instance, lines) => (instance === "d_1-0" ? Array.from({ length: lines }, (_, i) => `l${i}`) : undefined),
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const auth = { authorization: "Bearer secret-token-0123456789" };
    try {
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect((await fetch(`${url}/status`)).status).toBe(401);
      expect((await fetch(`${url}/logs/d_1-0`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      expect(await (await fetch(`${url}/status`, { headers: auth })).json()).toEqual({ region: "local" });
      const logs = await fetch(`${url}/logs/d_1-0?lines=3`, { headers: auth });
      expect(await logs.text()).toBe("l0\nl1\nl2\n");
      expect((await fetch(`${url}/logs/d_1-0`, { headers: auth })).status).toBe(200);
      expect((await fetch(`${url}/logs/nope-0`, { headers: auth })).status).toBe(404);
      for (const bad of ["0", "-1", "abc", "1.5", "10001"])
        expect((await fetch(`${url}/logs/d_1-0?lines=${bad}`, { headers: auth })).status).toBe(400);
      expect((await fetch(`${url}/status`, { method: "POST", headers: auth })).status).toBe(405);
    } finally {
      server.close();
    }
  });
});

describe("sentinelFailure (what a fleet rollout's deploy learns from a report)", () => {
  const base = { kind: "sentinel" as const, name: "s", image: "new", desiredReplicas: 1 };
  const inst = (over: Record<string, unknown>) => ({
    name: "s-0",
    address: "",
    phase: "running" as const,
    cpuMillicores: 1,
    memoryMib: 1,
    image: "new",
    ...over,
  });
  it("names a failed replica of the desired image, prefixing start failures and adding the exit code", () => {
    expect(sentinelFailure({ ...base, instances: [inst({ phase: "failed", failureReason: "image_pull_failed: digest mismatch" })] })).toBe(
      "image_pull_failed: digest mismatch",
    );
    expect(
      sentinelFailure({ ...base, instances: [inst({ phase: "failed", failureReason: "gave up after 3 failed starts", exitCode: 3 })] }),
    ).toBe("start_failed: gave up after 3 failed starts (exit code 3)");
  });
  it("ignores failures of the old image and healthy workloads", () => {
    expect(sentinelFailure({ ...base, instances: [inst({ phase: "failed", image: "old", failureReason: "x" })] })).toBeUndefined();
    expect(sentinelFailure({ ...base, instances: [inst({})] })).toBeUndefined();
  });
});
