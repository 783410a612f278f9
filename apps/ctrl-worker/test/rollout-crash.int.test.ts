/**
 * Crash guarantee of rollouts: the worker process is SIGKILLed (by pid) mid-rollout, after region 1
 * was cut over and while region 2 waits for readiness, then restarted on the same port. Restate
 * replays the journal: the rollout resumes where it was, the targets that finished are not redone
 * (region 1's topology keeps its version, each region's split reaches 100 once) and it ends stable.
 * The same across a restart of restate-server (its data kept).
 */
import "../src/polyfill.js";
import { startWorkerProcess, waitFor, type WorkerProcess } from "@ctrl/testing";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { attachDeploy, readDeployState, startDeployStack, type DeployStack } from "./deploy-harness.js";
import {
  deployWithPolicy,
  projectWithPrevious,
  readRollout,
  registerAgents,
  rolloutRegions,
  servingDeployment,
  startAgents,
  trackRollout,
  waitForRollout,
} from "./rollout-harness.js";

const entry = fileURLToPath(new URL("../src/main.ts", import.meta.url));
let stack: DeployStack;
let worker: WorkerProcess | undefined;

function startWorker(port?: number) {
  return startWorkerProcess({
    entry,
    name: "ctrl-worker",
    port,
    env: {
      DATABASE_URL: stack.database.url,
      RESTATE_ADMIN_URL: stack.restate.adminUrl,
      RESTATE_IDENTITY_KEYS: stack.restate.identityKeys.join(","),
      // Required (no default secret); these deploys are from an image and never reach S3.
      S3_ACCESS_KEY_ID: "unused-by-this-test",
      S3_SECRET_ACCESS_KEY: "unused-by-this-test",
      REGIONS: rolloutRegions.join(","),
      APEX_DOMAIN: "ctrl.test",
      READINESS_TIMEOUT_MS: "60000",
      READINESS_POLL_MS: "100",
      LOG_LEVEL: "warn",
    },
  });
}

beforeAll(async () => {
  stack = await startDeployStack({}, { worker: false });
  await registerAgents(stack.db, rolloutRegions);
});
afterAll(async () => {
  await worker?.stop(2_000);
  await stack?.close();
});

it("resumes a rollout after the worker is SIGKILLed mid-batch: finished targets are not redone, each region cut over once", async () => {
  worker = await startWorker();
  await worker.waitHealthy();
  const p = await projectWithPrevious(stack, "phoenix-rollout");
  const id = await deployWithPolicy(stack, p, { strategy: "rolling" });
  const tracker = trackRollout(stack.db, p.environmentId, id);
  const agents = startAgents(stack.db, id, { r2: "hold" });
  await waitForRollout(
    stack.db,
    id,
    "r1 cut over and r2 starting",
    (r) => r.targetList[0]?.state === "cut_over" && r.targetList[1]?.state === "starting",
  );
  const before = await readDeployState(stack.db, id);
  const r1Version = Number(before.topology.find((t) => t.region === "r1")?.version);

  const port = worker.port;
  await worker.kill();
  // While the worker is down region 2's agent reports its instances running.
  agents.set("r2", { status: "running" });
  worker = await startWorker(port);
  await worker.waitHealthy();

  const result = await attachDeploy(stack.rs, id);
  await agents.stop();
  const events = await tracker.stop();
  expect(result.status).toBe("ready");
  for (const region of rolloutRegions) {
    expect(events.filter((e) => e.kind === "split" && e.region === region).map((e) => ("weight" in e ? e.weight : -1))).toEqual([100, 0]);
  }
  const after = await readDeployState(stack.db, id);
  expect(after.topology.map((t) => t.region)).toEqual(rolloutRegions);
  expect(Number(after.topology.find((t) => t.region === "r1")?.version)).toBe(r1Version);
  const rollout = await readRollout(stack.db, id);
  expect(rollout?.state).toBe("stable");
  expect(rollout?.targetList.map((t) => t.state)).toEqual(["cut_over", "cut_over", "cut_over"]);
  expect(await servingDeployment(stack.db, p.environmentId)).toBe(id);
});

it("resumes a rollout after a restart of restate-server mid-batch, each region cut over once", async () => {
  worker ??= await startWorker();
  await worker.waitHealthy();
  const p = await projectWithPrevious(stack, "phoenix-restate");
  const id = await deployWithPolicy(stack, p, { strategy: "rolling" });
  const tracker = trackRollout(stack.db, p.environmentId, id);
  const agents = startAgents(stack.db, id, { r2: "hold" });
  await waitForRollout(
    stack.db,
    id,
    "r1 cut over and r2 starting",
    (r) => r.targetList[0]?.state === "cut_over" && r.targetList[1]?.state === "starting",
  );
  const r1Version = Number((await readDeployState(stack.db, id)).topology.find((t) => t.region === "r1")?.version);

  await stack.restate.restart();
  agents.set("r2", { status: "running" });
  const result = await waitFor("the restarted restate-server to answer", () => attachDeploy(stack.rs, id).catch(() => undefined), {
    timeoutMs: 60_000,
  });
  await agents.stop();
  const events = await tracker.stop();
  expect(result.status).toBe("ready");
  for (const region of rolloutRegions) {
    expect(events.filter((e) => e.kind === "split" && e.region === region).map((e) => ("weight" in e ? e.weight : -1))).toEqual([100, 0]);
  }
  expect(Number((await readDeployState(stack.db, id)).topology.find((t) => t.region === "r1")?.version)).toBe(r1Version);
  expect((await readRollout(stack.db, id))?.state).toBe("stable");
});
