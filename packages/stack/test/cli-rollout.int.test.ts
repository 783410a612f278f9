/**
 * `ctrl env policy …`, `ctrl rollout …` and `ctrl status` against a real ctrl-api (real HTTP, real
 * MariaDB; rollouts put in a state by writing their `deployment_rollouts` row). Most runs go through
 * `runCli` in-process (the binary's entry, without a child per call); one goes through the binary.
 *
 * Guarantees: the policy flags reach the API as the policy (and its refusals come back naming the
 * field, exit 1); `--json` is one parseable document (JSON lines with --follow); `rollout status`
 * shows each region with its weight and the last analysis; `--follow` ends when the rollout is
 * terminal; pause/resume/cancel change the stored control state or say why not (exit 1).
 */
import { startProcess } from "@ctrl/testing";
import { insertDeployment, moveRollout, putRollout, threeRegions } from "@ctrl/ctrl-api/rollout-testing";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutput, runCli } from "@ctrl/cli";
import { repo, startTestStack, type TestStack } from "../src/index.js";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
}, 90_000);
afterAll(async () => stack?.close());

const owner = () => ({
  workspaceId: stack.seed.workspaceId,
  projectId: stack.seed.projectId,
  environmentId: stack.seed.environments.production,
});

/** Runs `ctrl args…` in-process against the stack; stdout/stderr collected. */
async function ctrl(args: string[]) {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) => ({ write: (chunk: string) => (append(chunk), true) }) as unknown as NodeJS.WriteStream;
  const json = args.includes("--json");
  const out = createOutput(
    json,
    sink((t) => (stdout += t)),
    sink((t) => (stderr += t)),
  );
  const code = await runCli(
    args,
    { CTRL_API_URL: stack.apiUrl, CTRL_ROOT_KEY: stack.seed.rootKey, CTRL_PROJECT_ID: stack.seed.projectId },
    out,
  );
  return { code, stdout: () => stdout, stderr: () => stderr, json: () => JSON.parse(stdout) };
}

describe("ctrl env policy", () => {
  it("get shows the default; set writes every flag; get --json reads it back", async () => {
    const before = await ctrl(["env", "policy", "get", "--env", "preview", "--json"]);
    expect(before.code, before.stdout()).toBe(0);
    expect(before.json()).toMatchObject({ environment: "preview", isDefault: true, policy: { strategy: "blue_green", parallelism: 1 } });

    const set = await ctrl([
      "env",
      "policy",
      "set",
      "--env",
      "preview",
      "--strategy",
      "canary",
      "--parallelism",
      "2",
      "--delay",
      "30s",
      "--failure-action",
      "pause",
      "--health-timeout",
      "90s",
      "--canary-steps",
      "10:60s,50:60s",
      "--analysis-interval",
      "10s",
      "--analysis-window",
      "1m",
      "--max-error-rate",
      "5%",
      "--max-p99-ms",
      "500",
      "--min-requests",
      "20",
    ]);
    expect(set.code, set.stderr()).toBe(0);
    expect(set.stdout()).toMatch(
      /^preview: canary, parallelism 2, delay 30s, on failure pause, health timeout 1m30s, canary steps 10%\/1m → 50%\/1m → 100%, analysis every 10s over 1m \(max 5\.0 % errors, p99 ≤ 500 ms, min 20 requests\)/,
    );

    const after = await ctrl(["env", "policy", "get", "--env", "preview", "--json"]);
    expect(after.json()).toEqual({
      projectId: stack.seed.projectId,
      environment: "preview",
      isDefault: false,
      policy: {
        strategy: "canary",
        parallelism: 2,
        delayBetweenBatches: "30s",
        failureAction: "pause",
        healthCheckTimeout: "1m30s",
        canarySteps: [
          { weight: 10, pause: "1m" },
          { weight: 50, pause: "1m" },
        ],
        analysis: { interval: "10s", window: "1m", maxErrorRate: 0.05, maxP99LatencyMs: 500, minRequests: 20 },
      },
    });
    const human = await ctrl(["env", "policy", "get", "--env", "preview"]);
    expect(human.stdout()).toMatch(/^preview: canary, /);
    expect(human.stdout()).not.toMatch(/the default/);
  });

  it("an invalid value comes back from the API naming the field (exit 1); a usage mistake exits 2", async () => {
    const bad = await ctrl(["env", "policy", "set", "--strategy", "rolling", "--delay", "soon", "--json"]);
    expect(bad.code).toBe(1);
    expect(bad.json().error).toMatch(/^invalid_argument: policy\.delay_between_batches: "soon" is not a duration/);
    expect((await ctrl(["env", "policy", "set", "--parallelism", "2"])).code).toBe(2); // no --strategy
    expect((await ctrl(["env", "policy", "set", "--strategy", "canary", "--canary-steps", "ten"])).code).toBe(2);
    expect((await ctrl(["env", "policy", "get", "--strategy", "canary"])).code).toBe(2);
  });

  it("works through the binary too", async () => {
    const proc = startProcess("ctrl", process.execPath, [join(repo, "apps/cli/bin/ctrl.mjs"), "env", "policy", "get", "--json"], {
      cwd: repo,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/root",
        CTRL_API_URL: stack.apiUrl,
        CTRL_ROOT_KEY: stack.seed.rootKey,
        CTRL_PROJECT_ID: stack.seed.projectId,
      },
    });
    let stdout = "";
    proc.child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
    const { code } = await proc.exited;
    expect(code, stdout).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ environment: "production", isDefault: true });
  }, 30_000);
});

describe("ctrl rollout and ctrl status", () => {
  const analysis = {
    region: "us-east",
    verdict: "pass",
    requests: 120,
    errorRate: 0.008,
    p99LatencyMs: 45,
    breaches: [],
    measuredAt: Date.UTC(2026, 0, 1, 12, 0, 10),
  };

  it("status shows one line per region with state, weight, times and the analysis; --json parses", async () => {
    const id = await insertDeployment(stack.deps.db, owner());
    await putRollout(stack.deps.db, id, owner(), { state: "rolling", lastAnalysis: analysis });
    const human = await ctrl(["rollout", "status", id]);
    expect(human.code, human.stderr()).toBe(0);
    const lines = human.stdout().split("\n");
    expect(lines[0]).toBe(`rollout ${id}  rolling  ctrl active  canary  batch 2/3 step 1`);
    expect(lines.find((l) => l.includes("eu-west"))).toMatch(/eu-west\s+cut_over\s+\[#{20}\] 100% {2}started \S+ {2}cut over \S+/);
    expect(lines.find((l) => l.includes("us-east"))).toMatch(
      /us-east\s+cutting_over\s+\[#{2}\.{18}\] {2}10% {2}started \S+ {2}analysis pass: 120 requests, 0\.8 % errors, p99 45 ms at 12:00:10/,
    );
    expect(lines.find((l) => l.includes("ap-south"))).toMatch(/ap-south\s+pending\s+\[\.{20}\] {3}0%$/);
    expect(human.stdout()).toMatch(/1 cut over, 0 failed, 2 remaining of 3/);

    const json = (await ctrl(["rollout", "status", id, "--json"])).json();
    expect(json).toMatchObject({ deploymentId: id, state: "rolling", controlState: "active", completedTargets: ["eu-west"] });
    expect(json.targets[1]).toEqual({ region: "us-east", state: "cutting_over", weight: 10, startedAt: 3_000, cutOverAt: 0 });
    expect(json.lastAnalysis).toMatchObject({ region: "us-east", requests: 120 });
  });

  it("pause, resume and cancel change the control state; an illegal one exits 1 with the reason", async () => {
    const id = await insertDeployment(stack.deps.db, owner());
    await putRollout(stack.deps.db, id, owner(), { state: "rolling" });
    const paused = await ctrl(["rollout", "pause", id, "--json"]);
    expect(paused.code, paused.stdout()).toBe(0);
    expect(paused.json()).toMatchObject({ deploymentId: id, controlState: "paused" });
    const again = await ctrl(["rollout", "pause", id]);
    expect(again.code).toBe(1);
    expect(again.stderr()).toMatch(/failed_precondition: .*already paused/);
    expect((await ctrl(["rollout", "resume", id, "--json"])).json().controlState).toBe("active");
    const cancelled = await ctrl(["rollout", "cancel", id]);
    expect(cancelled.stdout()).toMatch(new RegExp(`^rollout ${id}  rolling  ctrl cancel_requested`));
    const none = await ctrl(["rollout", "pause", await insertDeployment(stack.deps.db, owner()), "--json"]);
    expect(none.code).toBe(1);
    expect(none.json().error).toMatch(/has no rollout/);
    expect((await ctrl(["rollout", "stop", id])).code).toBe(2);
  });

  it("status --follow prints each change as a JSON line and ends when the rollout is terminal", async () => {
    const id = await insertDeployment(stack.deps.db, owner());
    await putRollout(stack.deps.db, id, owner(), { state: "rolling" });
    let stdout = "";
    const write = (chunk: string) => {
      stdout += chunk;
      return true;
    };
    const sink = { write } as unknown as NodeJS.WriteStream;
    const following = runCli(
      ["rollout", "status", id, "--follow", "--json"],
      { CTRL_API_URL: stack.apiUrl, CTRL_ROOT_KEY: stack.seed.rootKey },
      createOutput(true, sink, sink),
    );
    const linesNow = () =>
      stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    const waitLines = async (n: number) => {
      const deadline = Date.now() + 15_000;
      while (linesNow().length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} lines, got: ${stdout}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitLines(1);
    const halfway = threeRegions.map((t) => (t.region === "us-east" ? { ...t, weight: 50 } : t));
    await moveRollout(stack.deps.db, id, { targets: JSON.stringify(halfway) });
    await waitLines(2);
    const done = threeRegions.map((t) => ({ ...t, state: "cut_over" as const, weight: 100, startedAt: 1_000, cutOverAt: 5_000 }));
    await moveRollout(stack.deps.db, id, { state: "stable", targets: JSON.stringify(done), finished_at: Date.now() });
    expect(await following).toBe(0);
    const lines = linesNow();
    expect(lines[0].targets[1].weight).toBe(10);
    expect(lines.some((l) => l.targets[1].weight === 50)).toBe(true);
    expect(lines.at(-1)).toMatchObject({ state: "stable", completedTargets: ["eu-west", "us-east", "ap-south"] });
  }, 30_000);

  it("ctrl status has ROLLOUT and CTRL columns, and the rollout in --json", async () => {
    const id = await insertDeployment(stack.deps.db, owner());
    await putRollout(stack.deps.db, id, owner(), { state: "blocked", control: "active" });
    const human = await ctrl(["status", id]);
    expect(human.code, human.stderr()).toBe(0);
    expect(human.stdout()).toMatch(/ROLLOUT\s+CTRL\s+STRATEGY\s+REGIONS\nblocked\s+active\s+canary\s+1\/3 cut over/);
    expect((await ctrl(["status", id, "--json"])).json().rollout).toMatchObject({ state: "blocked", controlState: "active" });
    const plain = await insertDeployment(stack.deps.db, owner());
    expect((await ctrl(["status", plain])).stdout()).toMatch(/ROLLOUT\s+CTRL\s+STRATEGY\s+REGIONS\n-\s+-\s+-\s+-/);
    expect((await ctrl(["status", plain, "--json"])).json().rollout).toBeNull();
  });
});
