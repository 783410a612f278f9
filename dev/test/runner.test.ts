import { createServer, type Server } from "node:net";
import { freePort, waitForPortFree } from "@ctrl/testing";
import { afterEach, describe, expect, it } from "vitest";
import { isPortFree, PortsBusyError, StackRunner, StepFailedError, type ServiceSpec, type StepSpec } from "../src/runner.js";

// Real child processes: tiny node HTTP servers. `exitBeforeReady` / `ignoreTerm` / `grandchild` vary them.
function httpService(name: string, port: number, extra: Partial<ServiceSpec> & { script?: string } = {}): ServiceSpec {
  const script =
    extra.script ??
    `require("node:http").createServer((q, r) => r.end("ok")).listen(${port}, "127.0.0.1", () => console.log("${name} listening"));`;
  return {
    kind: "service",
    name,
    command: process.execPath,
    args: ["-e", script],
    ports: { http: port },
    ready: { http: `http://127.0.0.1:${port}/` },
    readyTimeoutMs: 10_000,
    ...extra,
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Recorder {
  lines: { name: string; line: string }[];
  crashes: string[];
  events: { line(name: string, line: string): void; crashed(name: string): void };
}
function recorder(): Recorder {
  const r: Recorder = {
    lines: [],
    crashes: [],
    events: { line: (name, line) => r.lines.push({ name, line }), crashed: (name) => r.crashes.push(name) },
  };
  return r;
}
const lineIndex = (r: Recorder, name: string, prefix: string) => r.lines.findIndex((l) => l.name === name && l.line.startsWith(prefix));

let runner: StackRunner | undefined;
afterEach(async () => {
  await runner?.stop();
  runner = undefined;
});

describe("StackRunner", () => {
  it("starts in dependency order, runs tasks with earlier outputs, and stops in reverse start order", async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const r = recorder();
    const specs: StepSpec[] = [
      { kind: "task", name: "seed", after: ["b"], run: async (outputs) => ({ sawMigrate: outputs.migrate }) },
      httpService("b", pb, { after: ["a", "migrate"] }),
      { kind: "task", name: "migrate", after: ["a"], run: async () => "migrated" },
      httpService("a", pa),
    ];
    runner = new StackRunner(specs, r.events);
    await runner.start();
    expect(runner.outputs).toEqual({ migrate: "migrated", seed: { sawMigrate: "migrated" } });
    expect(lineIndex(r, "a", "ready")).toBeLessThan(lineIndex(r, "migrate", "done"));
    expect(lineIndex(r, "migrate", "done")).toBeLessThan(lineIndex(r, "b", "started"));
    expect(lineIndex(r, "b", "ready")).toBeLessThan(lineIndex(r, "seed", "done"));
    expect(r.lines.some((l) => l.name === "a" && l.line === "a listening")).toBe(true);

    await runner.stop();
    expect(lineIndex(r, "b", "stopping")).toBeLessThan(lineIndex(r, "a", "stopping"));
    expect(await isPortFree(pa)).toBe(true);
    expect(await isPortFree(pb)).toBe(true);
  });

  it("SIGKILLs a service that ignores SIGTERM after its grace, and reaches its children through the group", async () => {
    const [parentPort, childPort] = [await freePort(), await freePort()];
    // The parent ignores SIGTERM; its child (like tsx's program) listens on another port.
    const script = `
      process.on("SIGTERM", () => console.log("ignoring SIGTERM"));
      const { spawn } = require("node:child_process");
      const child = spawn(process.execPath, ["-e", 'process.on("SIGTERM", () => {}); require("node:http").createServer((q, r) => r.end("child")).listen(${childPort}, "127.0.0.1")'], { stdio: "inherit" });
      console.log("child pid " + child.pid);
      require("node:http").createServer((q, r) => r.end("parent")).listen(${parentPort}, "127.0.0.1");`;
    const r = recorder();
    runner = new StackRunner(
      [httpService("stubborn", parentPort, { script, graceMs: 300, ready: { http: `http://127.0.0.1:${childPort}/` } })],
      r.events,
    );
    await runner.start();
    const childPid = Number(r.lines.find((l) => l.line.startsWith("child pid "))!.line.slice("child pid ".length));
    expect(isAlive(childPid)).toBe(true);
    await runner.stop();
    await waitForPortFree(parentPort, 5_000);
    await waitForPortFree(childPort, 5_000);
    expect(r.lines.some((l) => l.line === "ignoring SIGTERM")).toBe(true);
  });

  it("also ends children that moved to a session of their own (like krane's instances)", async () => {
    const [parentPort, childPort] = [await freePort(), await freePort()];
    // The child is spawned detached (setsid): the group signal does not reach it, and the parent exits
    // on SIGTERM without stopping it — it would be re-parented to init and keep its port forever.
    const script = `
      const { spawn } = require("node:child_process");
      const child = spawn(process.execPath, ["-e", 'require("node:http").createServer((q, r) => r.end("own session")).listen(${childPort}, "127.0.0.1")'], { detached: true, stdio: "ignore" });
      child.unref();
      require("node:http").createServer((q, r) => r.end("parent")).listen(${parentPort}, "127.0.0.1");`;
    runner = new StackRunner(
      [httpService("agent", parentPort, { script, ready: { http: `http://127.0.0.1:${childPort}/` } })],
      recorder().events,
    );
    await runner.start();
    await runner.stop();
    await waitForPortFree(childPort, 5_000);
  });

  it("fails with the process's output when it exits before it is ready, and stops what it had started", async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const r = recorder();
    runner = new StackRunner(
      [
        httpService("a", pa),
        httpService("broken", pb, { after: ["a"], script: `console.error("cannot open config file"); process.exit(3)` }),
      ],
      r.events,
    );
    const err = await runner.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepFailedError);
    expect((err as Error).message).toContain("broken: exited before it was ready (code 3");
    expect((err as Error).message).toContain("cannot open config file");
    expect(await isPortFree(pa)).toBe(true);
  });

  it("names every busy port before starting anything", async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(pb, "127.0.0.1", resolve));
    try {
      const r = recorder();
      runner = new StackRunner([httpService("a", pa), httpService("ctrl-api", pb)], r.events);
      const err = await runner.start().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortsBusyError);
      expect((err as PortsBusyError).busy).toEqual([{ step: "ctrl-api", label: "http", port: pb }]);
      expect((err as Error).message).toContain(`${pb}  (ctrl-api http)`);
      expect(r.lines.filter((l) => l.line.startsWith("started"))).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it("fails a service that never becomes ready by its deadline, naming the check", async () => {
    const port = await freePort();
    const r = recorder();
    runner = new StackRunner([httpService("slow", port, { script: "setInterval(() => {}, 1000)", readyTimeoutMs: 500 })], r.events);
    const err = await runner.start().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/slow: timed out after 500 ms waiting for GET http:\/\/127\.0\.0\.1:\d+\/ to answer 200/);
  });

  it("treats a skipped step as ready and reports why it was skipped", async () => {
    const port = await freePort();
    const r = recorder();
    runner = new StackRunner(
      [{ ...httpService("mysql", await freePort()), enabled: () => "using DATABASE_URL" }, httpService("api", port, { after: ["mysql"] })],
      r.events,
    );
    await runner.start();
    expect(runner.skipped).toEqual([{ name: "mysql", reason: "using DATABASE_URL" }]);
    expect(r.lines).toContainEqual({ name: "mysql", line: "skipped: using DATABASE_URL" });
    expect(runner.services.map((s) => s.name)).toEqual(["api"]);
  });

  it("reports a service that dies after it was ready", async () => {
    const port = await freePort();
    const r = recorder();
    const script = `const s = require("node:http").createServer((q, r) => { r.end("ok"); setTimeout(() => process.exit(7), 50); }).listen(${port}, "127.0.0.1");`;
    runner = new StackRunner([httpService("flaky", port, { script })], r.events);
    await runner.start();
    await waitForPortFree(port, 5_000);
    await expect.poll(() => r.crashes).toEqual(["flaky"]);
  });

  it("rejects unknown dependencies, cycles and duplicate names", () => {
    const svc = (name: string, after: string[] = []) => httpService(name, 1, { after });
    expect(() => new StackRunner([svc("a", ["nope"])], recorder().events)).toThrow('"a" comes after unknown step "nope"');
    expect(() => new StackRunner([svc("a", ["b"]), svc("b", ["a"])], recorder().events)).toThrow("dependency cycle a → b → a");
    expect(() => new StackRunner([svc("a"), svc("a")], recorder().events)).toThrow('two steps are named "a"');
  });
});
