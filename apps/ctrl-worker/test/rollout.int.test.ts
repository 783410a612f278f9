/**
 * Deployment rollouts (issue 13) in the deploy workflow, against real MariaDB and a real
 * restate-server, three regions with simulated agents: regions go in the order and batches of the
 * policy and each is cut over once; blue-green switches once after all are ready; a failed region
 * rolls every region back or blocks the rollout until an operator resumes; pause, resume and cancel
 * come from the rollout row; an emergency rollback ends a running rollout; an analysis breach read
 * from the sentinels' `/metrics` rolls back.
 */
import "../src/polyfill.js";
import { compareAndSetControlState } from "@ctrl/db";
import { waitFor } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attachDeploy, deploymentService, readDeployState, startDeployStack, type DeployStack } from "./deploy-harness.js";
import {
  deployWithPolicy,
  projectWithPrevious,
  readRollout,
  registerAgents,
  rolloutRegions,
  rolloutSettings,
  servingDeployment,
  startAgents,
  startMetricsSentinel,
  trackRollout,
  waitForRollout,
  type TrackedEvent,
} from "./rollout-harness.js";

let stack: DeployStack;

beforeAll(async () => {
  stack = await startDeployStack(rolloutSettings);
  await registerAgents(stack.db, rolloutRegions);
});
afterAll(async () => {
  await stack?.close();
});

/** Index of the first event matching, -1 if none. */
const at = (events: TrackedEvent[], kind: TrackedEvent["kind"], region: string, value?: number | string) =>
  events.findIndex(
    (e) => e.kind === kind && e.region === region && (value === undefined || ("weight" in e ? e.weight : e.status) === value),
  );

/** Every weight a region's split took, in order. */
const weightsOf = (events: TrackedEvent[], region: string) =>
  events.filter((e): e is Extract<TrackedEvent, { kind: "split" }> => e.kind === "split" && e.region === region).map((e) => e.weight);

describe("deployment rollouts", () => {
  it("rolling, parallelism 1: each region is started and cut over in order, once; then the global switch and stable", async () => {
    const p = await projectWithPrevious(stack, "rolling");
    const id = await deployWithPolicy(stack, p, { strategy: "rolling", parallelism: 1 });
    const tracker = trackRollout(stack.db, p.environmentId, id);
    const live = startAgents(stack.db, id);
    const result = await attachDeploy(stack.rs, id);
    await live.stop();
    const events = await tracker.stop();
    expect(result.status).toBe("ready");
    // r2 starts only after r1 took all of its traffic; r3 only after r2.
    expect(at(events, "split", "r1", 100)).toBeLessThan(at(events, "topology", "r2", "running"));
    expect(at(events, "split", "r2", 100)).toBeLessThan(at(events, "topology", "r3", "running"));
    expect(at(events, "topology", "r1", "running")).toBeLessThan(at(events, "split", "r1", 100));
    // Each region went straight to 100 once, and the splits went away after the global switch.
    for (const region of rolloutRegions) expect(weightsOf(events, region)).toEqual([100, 0]);
    expect(await servingDeployment(stack.db, p.environmentId)).toBe(id);
    const rollout = await readRollout(stack.db, id);
    expect(rollout).toMatchObject({ state: "stable", control_state: "active", previous_deployment_id: p.previous, strategy: "rolling" });
    expect(rollout?.batchList).toEqual([["r1"], ["r2"], ["r3"]]);
    expect(rollout?.targetList.map((t) => [t.region, t.state, t.weight])).toEqual(rolloutRegions.map((r) => [r, "cut_over", 100]));
    expect(rollout?.finished_at).not.toBeNull();
    // The previous deployment keeps running (an emergency rollback to it needs no start).
    expect((await readDeployState(stack.db, p.previous)).topology.map((t) => t.desired_status)).toEqual(["running", "running", "running"]);
  });

  it("canary: the first region alone through the canary weights, then the rest in batches of parallelism", async () => {
    const p = await projectWithPrevious(stack, "canary");
    const id = await deployWithPolicy(stack, p, { strategy: "canary", parallelism: 2, canary_steps: [{ weight: 25, pause: "300ms" }] });
    const tracker = trackRollout(stack.db, p.environmentId, id);
    const agents = startAgents(stack.db, id);
    const result = await attachDeploy(stack.rs, id);
    await agents.stop();
    const events = await tracker.stop();
    expect(result.status).toBe("ready");
    expect(weightsOf(events, "r1")).toEqual([25, 100, 0]);
    expect(at(events, "split", "r1", 100)).toBeLessThan(at(events, "topology", "r2", "running"));
    expect(at(events, "split", "r1", 100)).toBeLessThan(at(events, "topology", "r3", "running"));
    expect(weightsOf(events, "r2")).toEqual([25, 100, 0]);
    expect(weightsOf(events, "r3")).toEqual([25, 100, 0]);
    expect((await readRollout(stack.db, id))?.batchList).toEqual([["r1"], ["r2", "r3"]]);
  });

  it("blue_green: no region takes traffic before all are ready, then one switch", async () => {
    const p = await projectWithPrevious(stack, "bluegreen");
    const id = await deployWithPolicy(stack, p, { strategy: "blue_green" });
    const tracker = trackRollout(stack.db, p.environmentId, id);
    const agents = startAgents(stack.db, id, { r3: "hold" });
    await waitForRollout(stack.db, id, "r1 and r2 ready", (r) => r.targetList.every((t) => t.state === "starting"));
    await waitFor("r1 and r2 instances running", async () => {
      const s = await readDeployState(stack.db, id);
      return s.topology.length === 3 && s.stepStatus.readiness === "running";
    });
    expect(await servingDeployment(stack.db, p.environmentId)).toBe(p.previous);
    agents.set("r3", { status: "running" });
    const result = await attachDeploy(stack.rs, id);
    await agents.stop();
    const events = await tracker.stop();
    expect(result.status).toBe("ready");
    expect(events.filter((e) => e.kind === "split")).toEqual([]);
    expect(await servingDeployment(stack.db, p.environmentId)).toBe(id);
    expect(await readRollout(stack.db, id)).toMatchObject({ state: "stable", strategy: "blue_green" });
  });

  it("a crash in region 2 with failure_action=rollback: region 1 goes back, rolled_back, start_failed with the exit code", async () => {
    const p = await projectWithPrevious(stack, "crashrb");
    const id = await deployWithPolicy(stack, p, { strategy: "rolling", failure_action: "rollback" });
    const tracker = trackRollout(stack.db, p.environmentId, id);
    const agents = startAgents(stack.db, id, { r2: { status: "failed", exitCode: 3, failureReason: "exited" } });
    const result = await attachDeploy(stack.rs, id);
    await agents.stop();
    const events = await tracker.stop();
    expect(result).toMatchObject({ status: "failed", reason: "start_failed" });
    expect(weightsOf(events, "r1")).toEqual([100, 0]);
    expect(weightsOf(events, "r2")).toEqual([]);
    expect(at(events, "topology", "r3")).toBe(-1);
    expect(await servingDeployment(stack.db, p.environmentId)).toBe(p.previous);
    const rollout = await readRollout(stack.db, id);
    expect(rollout?.state).toBe("rolled_back");
    expect(rollout?.failures).toEqual([expect.objectContaining({ target: "r2", kind: "start_failed", observed: { exit_code: 3 } })]);
    expect(rollout?.failures[0]?.message).toMatch(/exit code 3/);
    expect(rollout?.targetList.map((t) => [t.region, t.state])).toEqual([
      ["r1", "rolled_back"],
      ["r2", "failed"],
      ["r3", "pending"],
    ]);
    const state = await readDeployState(stack.db, id);
    expect(state.deployment).toMatchObject({ status: "failed", failure_reason: "start_failed" });
    expect(state.topology.map((t) => t.desired_status)).toEqual(["stopped", "stopped"]);
  });

  it("the same crash with failure_action=pause: blocked, then a fix and a resume, then stable", async () => {
    const p = await projectWithPrevious(stack, "crashpause");
    const id = await deployWithPolicy(stack, p, { strategy: "rolling", failure_action: "pause" });
    const agents = startAgents(stack.db, id, { r2: { status: "failed", exitCode: 3 } });
    const blocked = await waitForRollout(stack.db, id, "the rollout blocked", (r) => r.state === "blocked");
    expect(blocked.failures).toEqual([expect.objectContaining({ target: "r2", kind: "start_failed" })]);
    // Still serving: r1 on the new deployment, r2 and r3 on the previous one.
    const splits = await stack.db.selectFrom("region_traffic_splits").selectAll().where("environment_id", "=", p.environmentId).execute();
    expect(splits.map((s) => [s.region, Number(s.canary_weight)])).toEqual([["r1", 100]]);
    expect((await readDeployState(stack.db, id)).deployment.status).toBe("deploying");
    agents.set("r2", { status: "running" });
    // ctrl-api's resume of a blocked rollout: active → active, which moves the revision.
    expect(await compareAndSetControlState(stack.db, id, "active", "active", Date.now())).toBe(true);
    const result = await attachDeploy(stack.rs, id);
    await agents.stop();
    expect(result.status).toBe("ready");
    const rollout = await readRollout(stack.db, id);
    expect(rollout?.state).toBe("stable");
    expect(rollout?.targetList.map((t) => t.state)).toEqual(["cut_over", "cut_over", "cut_over"]);
  });

  it("pause holds the rollout before its next step; resume carries on", async () => {
    const p = await projectWithPrevious(stack, "pause");
    const id = await deployWithPolicy(stack, p, { strategy: "rolling" });
    const agents = startAgents(stack.db, id, { r2: "hold" });
    // Batch 2 started (its agent holds it back): the next step the rollout takes is r2's cutover.
    await waitForRollout(
      stack.db,
      id,
      "r1 cut over, r2 starting",
      (r) => r.targetList[0]?.state === "cut_over" && r.targetList[1]?.state === "starting",
    );
    expect(await compareAndSetControlState(stack.db, id, "active", "paused", Date.now())).toBe(true);
    agents.set("r2", { status: "running" });
    const paused = await waitForRollout(stack.db, id, "r2 ready", (r) => r.targetList[1]?.state === "ready");
    expect(paused.control_state).toBe("paused");
    // Paused: r2 is ready but takes no traffic, and r3 is not started. Proving that nothing moves
    // needs a span of time: six control polls.
    const before = paused.revision;
    await new Promise((r) => setTimeout(r, 300));
    const still = await readRollout(stack.db, id);
    expect(still?.revision).toBe(before);
    expect(still?.targetList.map((t) => t.state)).toEqual(["cut_over", "ready", "pending"]);
    expect(await compareAndSetControlState(stack.db, id, "paused", "active", Date.now())).toBe(true);
    expect((await attachDeploy(stack.rs, id)).status).toBe("ready");
    await agents.stop();
    expect((await readRollout(stack.db, id))?.state).toBe("stable");
  });

  it("cancel stops where it is, even mid-readiness: regions cut over stay, the rest stop, degraded", async () => {
    const p = await projectWithPrevious(stack, "cancel");
    const id = await deployWithPolicy(stack, p, { strategy: "rolling" });
    const agents = startAgents(stack.db, id, { r2: "hold" });
    await waitForRollout(
      stack.db,
      id,
      "r1 cut over, r2 starting",
      (r) => r.targetList[0]?.state === "cut_over" && r.targetList[1]?.state === "starting",
    );
    // r2 never becomes ready: the cancel is noticed while its batch waits for readiness.
    expect(await compareAndSetControlState(stack.db, id, "active", "cancel_requested", Date.now())).toBe(true);
    const result = await attachDeploy(stack.rs, id);
    await agents.stop();
    expect(result.status).toBe("cancelled");
    const rollout = await readRollout(stack.db, id);
    expect(rollout?.state).toBe("degraded");
    expect(rollout?.failures.at(-1)).toMatchObject({ kind: "cancelled" });
    const splits = await stack.db.selectFrom("region_traffic_splits").selectAll().where("environment_id", "=", p.environmentId).execute();
    expect(splits.map((s) => [s.region, Number(s.canary_weight), s.canary_deployment_id])).toEqual([["r1", 100, id]]);
    const state = await readDeployState(stack.db, id);
    expect(state.stepStatus.readiness).toBe("skipped");
    const topology = state.topology.map((t) => [t.region, t.desired_status]);
    expect(topology).toEqual([
      ["r1", "running"],
      ["r2", "stopped"],
    ]);
    expect(await servingDeployment(stack.db, p.environmentId)).toBe(p.previous);
  });

  it("an emergency rollback during a rollout wins: splits gone at once, rolled_back, the workflow stops without touching routes", async () => {
    const p = await projectWithPrevious(stack, "emergency");
    const id = await deployWithPolicy(stack, p, { strategy: "rolling" });
    const agents = startAgents(stack.db, id, { r2: "hold" });
    await waitForRollout(
      stack.db,
      id,
      "r1 cut over, r2 starting",
      (r) => r.targetList[0]?.state === "cut_over" && r.targetList[1]?.state === "starting",
    );
    const switched = await deploymentService(stack.rs, p.projectId).rollback({ sourceDeploymentId: id, targetDeploymentId: p.previous });
    expect(switched.liveDeploymentId).toBe(p.previous);
    expect(await stack.db.selectFrom("region_traffic_splits").selectAll().where("environment_id", "=", p.environmentId).execute()).toEqual(
      [],
    );
    expect((await readRollout(stack.db, id))?.state).toBe("rolled_back");
    agents.set("r2", { status: "running" });
    const result = await attachDeploy(stack.rs, id);
    await agents.stop();
    expect(result).toMatchObject({ status: "failed", reason: "rolled_back" });
    expect(await servingDeployment(stack.db, p.environmentId)).toBe(p.previous);
    expect(await stack.db.selectFrom("region_traffic_splits").selectAll().where("environment_id", "=", p.environmentId).execute()).toEqual(
      [],
    );
    const rollout = await readRollout(stack.db, id);
    expect(rollout?.state).toBe("rolled_back");
    expect(rollout?.targetList[0]?.state).toBe("rolled_back");
  });

  it("analysis: half the new deployment's requests answer 500 → rolled back during the first canary step", async () => {
    const p = await projectWithPrevious(stack, "analysis");
    const sentinel = await startMetricsSentinel(stack.db, { workspaceId: stack.seed.workspaceId, ...p }, rolloutRegions);
    try {
      const id = await deployWithPolicy(stack, p, {
        strategy: "canary",
        canary_steps: [{ weight: 20, pause: "2s" }],
        analysis: { interval: "200ms", window: "1s", max_error_rate: 0.05, min_requests: 10 },
      });
      sentinel.flow(id, 0.5);
      const tracker = trackRollout(stack.db, p.environmentId, id);
      const agents = startAgents(stack.db, id);
      const result = await attachDeploy(stack.rs, id);
      await agents.stop();
      const events = await tracker.stop();
      expect(result).toMatchObject({ status: "failed", reason: "analysis_failed", failedStep: "rollout" });
      expect(weightsOf(events, "r1")).toEqual([20, 0]);
      const rollout = await readRollout(stack.db, id);
      expect(rollout?.state).toBe("rolled_back");
      const failure = rollout?.failures[0];
      expect(failure).toMatchObject({ target: "r1", kind: "analysis_failed" });
      expect(failure?.observed.error_rate).toBeGreaterThan(0.3);
      expect(failure?.observed.max_error_rate).toBe(0.05);
      expect(failure?.observed.requests).toBeGreaterThanOrEqual(10);
      expect(rollout?.analysis?.verdict).toBe("fail");
      expect(await servingDeployment(stack.db, p.environmentId)).toBe(p.previous);
    } finally {
      await sentinel.close();
    }
  });

  it("analysis: a healthy new deployment passes every step and goes stable", async () => {
    const p = await projectWithPrevious(stack, "healthy");
    const sentinel = await startMetricsSentinel(stack.db, { workspaceId: stack.seed.workspaceId, ...p }, rolloutRegions);
    try {
      const id = await deployWithPolicy(stack, p, {
        strategy: "rolling",
        parallelism: 3,
        canary_steps: [{ weight: 50, pause: "400ms" }],
        analysis: { interval: "100ms", window: "300ms", max_error_rate: 0.05, min_requests: 10 },
      });
      sentinel.flow(id, 0);
      const agents = startAgents(stack.db, id);
      const result = await attachDeploy(stack.rs, id);
      await agents.stop();
      expect(result.status).toBe("ready");
      const rollout = await readRollout(stack.db, id);
      expect(rollout?.state).toBe("stable");
      expect(rollout?.analysis).toMatchObject({ verdict: "pass", errorRate: 0 });
    } finally {
      await sentinel.close();
    }
  });

  it("an instance that crashes after it was ready is crashed_after_ready of its region, and rolls back", async () => {
    const p = await projectWithPrevious(stack, "crashlate");
    const id = await deployWithPolicy(stack, p, { strategy: "canary", canary_steps: [{ weight: 25, pause: "30s" }] });
    const agents = startAgents(stack.db, id);
    await waitForRollout(stack.db, id, "r1 at 25%", (r) => r.targetList[0]?.weight === 25);
    agents.set("r1", { status: "failed", exitCode: 9, failureReason: "segfault" });
    const result = await attachDeploy(stack.rs, id);
    await agents.stop();
    expect(result).toMatchObject({ status: "failed", reason: "crashed_after_ready" });
    const rollout = await readRollout(stack.db, id);
    expect(rollout?.state).toBe("rolled_back");
    expect(rollout?.failures).toEqual([expect.objectContaining({ target: "r1", kind: "crashed_after_ready", observed: { exit_code: 9 } })]);
    expect(await stack.db.selectFrom("region_traffic_splits").selectAll().where("environment_id", "=", p.environmentId).execute()).toEqual(
      [],
    );
  });

  it("a region without an agent is placement_failed before anything starts there", async () => {
    const p = await projectWithPrevious(stack, "placement", ["r1", "r9"]);
    const id = await deployWithPolicy(stack, p, { strategy: "rolling" });
    const agents = startAgents(stack.db, id);
    const result = await attachDeploy(stack.rs, id);
    await agents.stop();
    expect(result).toMatchObject({ status: "failed", reason: "placement_failed" });
    const rollout = await readRollout(stack.db, id);
    expect(rollout?.state).toBe("rolled_back");
    expect(rollout?.failures).toEqual([expect.objectContaining({ target: "r9", kind: "placement_failed" })]);
    expect((await readDeployState(stack.db, id)).topology.map((t) => [t.region, t.desired_status])).toEqual([["r1", "stopped"]]);
    expect(await servingDeployment(stack.db, p.environmentId)).toBe(p.previous);
  });
});
