/**
 * `ctrl fleet …` against a live stack (issue 12): the real `ctrl` binary as a child process, talking
 * to ctrl-api (real HTTP) with the operator credential; MariaDB, restate-server and the worker from
 * the ctrl-api harness; one acknowledging fake agent per region that reports every applied image
 * healthy. While no agent is connected a deploy waits, so each command is seen in the state it
 * causes.
 *
 * Guarantees: `rollout --image`, `status --json`, `pause`, `resume`, `cancel`, `rollback` and
 * `history --json` do what they say and exit 0; `status --follow` prints the live view at each
 * change — one line per wave with a progress bar and its counts, then the totals — and exits 0 once
 * the rollout is no longer active.
 */
import { startProcess, waitFor } from "@ctrl/testing";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetClient, insertSentinelFleet, operatorAuth, startFakeSentinelAgents, startTestStack, type TestStack } from "../src/index.js";

const repo = resolve(import.meta.dirname, "../../..");
const ctrlBin = join(repo, "apps/cli/bin/ctrl.mjs");
const regions = ["r1", "r2"];
const images = { v1: "registry.test/ctrl/sentinel:v1", v2: "registry.test/ctrl/sentinel:v2", v3: "registry.test/ctrl/sentinel:v3" };

let stack: TestStack;
let agents: { stop(): Promise<void> } | undefined;

/** One `ctrl` run: its output so far, and how it ends. */
interface CtrlRun {
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

function spawnCtrl(args: string[]): CtrlRun {
  let stdout = "";
  let stderr = "";
  const proc = startProcess("ctrl", process.execPath, [ctrlBin, ...args], {
    cwd: repo,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/root",
      CTRL_API_URL: stack.apiUrl,
      CTRL_ROOT_KEY: stack.operatorToken,
    },
  });
  proc.child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  proc.child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  return { stdout: () => stdout, stderr: () => stderr, exited: proc.exited.then((e) => e.code) };
}

/** Runs `ctrl fleet <args> --json`, expects exit 0 and returns the parsed output. */
async function fleetJson(...args: string[]): Promise<any> {
  const run = spawnCtrl(["fleet", ...args, "--json"]);
  const code = await run.exited;
  expect(code, `ctrl fleet ${args.join(" ")} --json failed:\n${run.stdout()}\n${run.stderr()}`).toBe(0);
  return JSON.parse(run.stdout());
}

async function waitState(rolloutId: string, state: string): Promise<void> {
  const fleet = fleetClient(stack);
  await waitFor(
    `rollout ${rolloutId} to be ${state}`,
    async () => (await fleet.getRollout({ rolloutId }, operatorAuth(stack))).rollout?.state === state,
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

beforeAll(async () => {
  stack = await startTestStack();
  await insertSentinelFleet(stack.database.db, stack.seed, 4, regions, images.v1, "se_cli");
}, 120_000);

afterAll(async () => {
  await agents?.stop();
  await stack?.close();
}, 60_000);

describe("ctrl fleet against a live stack", () => {
  it("rollout, status --json, pause, resume, cancel, rollback and history --json", async () => {
    // No agent yet: wave 1 (2 of 4 sentinels) stays in flight while we steer it.
    const started = await fleetJson("rollout", "--image", images.v2, "--waves", "50,100");
    expect(started).toMatchObject({ state: "in_progress", image: images.v2, total: 4 });
    expect(started.waves.map((w: { size: number }) => w.size)).toEqual([2, 2]);
    const id: string = started.id;

    const status = await fleetJson("status");
    expect(status).toMatchObject({ id, state: "in_progress", deploying: 2, pending: 2 });
    expect(status.targets).toHaveLength(4);

    expect(await fleetJson("pause")).toMatchObject({ id, state: "paused", pausedReason: "manual" });
    expect(await fleetJson("resume")).toMatchObject({ id, state: "in_progress" });
    expect(await fleetJson("cancel")).toMatchObject({ id, state: "cancelled" });
    expect(await fleetJson("rollback")).toEqual({ rolloutId: id, reverted: 2 });

    // The agents report; the in-flight deploys finish, then the reverts.
    agents = startFakeSentinelAgents(stack, regions);
    await waitState(id, "rolled_back");
    const history = await fleetJson("history");
    expect(history[0]).toMatchObject({ id, state: "rolled_back", image: images.v2 });

    const human = spawnCtrl(["fleet", "status"]);
    expect(await human.exited).toBe(0);
    expect(human.stdout()).toMatch(new RegExp(`^rollout ${id}  rolled_back  image ${images.v2.replace(/[.:/]/g, "\\$&")}`));

    // Usage and API errors leave with their codes: another resume is illegal now.
    const illegal = spawnCtrl(["fleet", "resume"]);
    expect(await illegal.exited).toBe(1);
    expect(illegal.stderr()).toMatch(/failed_precondition.*rolled_back/);
  }, 180_000);

  it("status --follow prints one line per wave with a progress bar and counts, until the rollout ends", async () => {
    await agents?.stop();
    agents = undefined;
    const started = await fleetJson("rollout", "--image", images.v3, "--waves", "25,50,100");
    expect(started.waves.map((w: { size: number }) => w.size)).toEqual([1, 1, 2]);

    const follow = spawnCtrl(["fleet", "status", "--follow"]);
    await waitFor("the first live view", () => follow.stdout().includes("\n\n"), { timeoutMs: 30_000 });
    agents = startFakeSentinelAgents(stack, regions);
    expect(await follow.exited, follow.stderr()).toBe(0);

    const views = follow
      .stdout()
      .split("\n\n")
      .filter((v) => v.trim())
      .map((v) => v.split("\n"));
    expect(views.length).toBeGreaterThan(1);
    for (const lines of views) {
      expect(lines[0]).toMatch(new RegExp(`^rollout ${started.id}  (in_progress|completed)  image `));
      const waveLines = lines.filter((l) => l.startsWith("  wave "));
      expect(waveLines).toHaveLength(3);
      for (const l of waveLines) expect(l).toMatch(/^ {2}wave \d +\d+% {2}\[[#.]{20}\] \d+\/\d+ {2}(pending|running|completed)/);
      expect(lines).toContainEqual(expect.stringMatching(/^ {2}\d+ succeeded, \d+ failed, \d+ pending.* of 4$/));
    }
    expect(views[0]![0]).toContain("in_progress");
    expect(views[0]).toContainEqual(expect.stringMatching(/^ {2}0 succeeded, 0 failed, 4 pending \(1 deploying\) of 4$/));
    const last = views.at(-1)!;
    expect(last[0]).toContain("completed");
    expect(last.filter((l) => l.startsWith("  wave "))).toEqual([
      "  wave 1  25%  [####################] 1/1  completed",
      "  wave 2  50%  [####################] 1/1  completed",
      "  wave 3 100%  [####################] 2/2  completed",
    ]);
    expect(last).toContain("  4 succeeded, 0 failed, 0 pending of 4");
  }, 180_000);
});
