/**
 * With `previousScaleDownDelayMs` set, the previous deployment keeps running until its successor's
 * rollout is stable and then that long more, after which its instances are stopped in every region
 * (without the setting it keeps running, as rollout.int.test.ts checks).
 */
import "../src/polyfill.js";
import { waitFor } from "@ctrl/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { attachDeploy, readDeployState, startDeployStack, type DeployStack } from "./deploy-harness.js";
import {
  deployWithPolicy,
  projectWithPrevious,
  readRollout,
  registerAgents,
  rolloutRegions,
  rolloutSettings,
  startAgents,
} from "./rollout-harness.js";

let stack: DeployStack;

beforeAll(async () => {
  stack = await startDeployStack({ ...rolloutSettings, previousScaleDownDelayMs: 300 });
  await registerAgents(stack.db, rolloutRegions);
});
afterAll(async () => {
  await stack?.close();
});

it("stops the previous deployment's instances a scale-down delay after the rollout is stable", async () => {
  const p = await projectWithPrevious(stack, "scaledown");
  const id = await deployWithPolicy(stack, p, { strategy: "rolling" });
  const agents = startAgents(stack.db, id);
  expect((await attachDeploy(stack.rs, id)).status).toBe("ready");
  await agents.stop();
  const stable = await readRollout(stack.db, id);
  expect(stable?.state).toBe("stable");
  const stopped = await waitFor(
    "the previous deployment stopped in every region",
    async () => {
      const topology = (await readDeployState(stack.db, p.previous)).topology;
      return topology.every((t) => t.desired_status === "stopped") ? topology : undefined;
    },
    { timeoutMs: 30_000 },
  );
  expect(stopped.map((t) => t.region)).toEqual(rolloutRegions);
  // Never before the rollout was stable plus the delay.
  for (const t of stopped) expect(Number(t.updated_at)).toBeGreaterThanOrEqual(Number(stable?.finished_at) + 300);
  expect((await readDeployState(stack.db, id)).topology.every((t) => t.desired_status === "running")).toBe(true);
});
