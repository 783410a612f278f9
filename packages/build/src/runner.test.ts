import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "./runner.js";

// Real child processes: the runner's contract is about what really happens to them.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(`${tmpdir()}/ctrl-runner-`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
const env = { PATH: "/usr/bin:/bin" };

describe("runCommand", () => {
  it("captures stdout and stderr lines and the exit code", async () => {
    const lines: string[] = [];
    const r = await runCommand("echo one; echo two >&2; printf 'three'; exit 3", {
      cwd: dir,
      env,
      timeoutMs: 10_000,
      onLine: (l) => lines.push(l),
    });
    expect(r.exitCode).toBe(3);
    expect(r.timedOut).toBe(false);
    expect(lines.sort()).toEqual(["one", "three", "two"]);
  });

  it("keeps only the last lines as the tail", async () => {
    const r = await runCommand("for i in $(seq 1 50); do echo line$i; done", { cwd: dir, env, timeoutMs: 10_000, tailLines: 5 });
    expect(r.exitCode).toBe(0);
    expect(r.tail).toEqual(["line46", "line47", "line48", "line49", "line50"]);
  });

  it("runs with exactly the given environment", async () => {
    process.env.CTRL_RUNNER_SECRET = "leak";
    const r = await runCommand('echo "secret=${CTRL_RUNNER_SECRET:-none} home=$HOME"', {
      cwd: dir,
      env: { ...env, HOME: dir },
      timeoutMs: 10_000,
    });
    delete process.env.CTRL_RUNNER_SECRET;
    expect(r.tail).toEqual([`secret=none home=${dir}`]);
  });

  it("kills the whole process group at the timeout", async () => {
    // The grandchild (sleep in the background) must die too, or it would hold the pipes open.
    const r = await runCommand("sleep 30 & sleep 30; echo never", { cwd: dir, env, timeoutMs: 1_000 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).not.toBe(0);
    expect(r.tail).not.toContain("never");
  });

  it("reports a program that does not exist", async () => {
    const r = await runCommand(["/nonexistent/binary", "x"], { cwd: dir, env, timeoutMs: 5_000 });
    expect(r.exitCode).not.toBe(0);
    expect(r.timedOut).toBe(false);
  });

  it("cuts overlong lines", async () => {
    const r = await runCommand("head -c 10000 /dev/zero | tr '\\0' x; echo", { cwd: dir, env, timeoutMs: 10_000 });
    expect(r.tail[0]!.length).toBeLessThan(4200);
    expect(r.tail[0]).toMatch(/line cut at 4096 characters/);
  });
});
