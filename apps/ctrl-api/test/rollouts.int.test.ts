/**
 * The rollout control surfaces (issue 13) through real Connect clients and real HTTP against
 * ctrl-api, MariaDB and the worker: EnvironmentService.Get/SetRolloutPolicy, the policy snapshot on
 * CreateDeployment (Connect and /v2), Pause/Resume/CancelRollout (Connect and /v2) and GetDeployment's
 * `rollout`. Rollouts are put in each state by writing their `deployment_rollouts` row directly
 * (rollout-fixtures.ts); the workflow that drives real rollouts is tested with the worker.
 *
 * Guarantees: a policy round-trips with its defaults; every broken field is `invalid_argument`
 * naming `policy.<field>` and writes nothing; a root key never reaches another workspace (the same
 * `not_found` as a missing project) and needs its permission; a deployment keeps the policy it was
 * created with; a control operation changes `control_state` only when `decideControl` allows it
 * (else `failed_precondition` with the reason) and concurrent operations never overwrite each other.
 */
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createRootKey, findDeploymentRollout } from "@ctrl/db";
import { DeploymentService, EnvironmentService } from "@ctrl/proto";
import type { ControlState, RolloutState } from "@ctrl/rollout";
import { waitFor } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createWorkspace, failure, startDeployStack } from "./fake-agent.js";
import type { TestStack } from "./harness.js";
import { insertDeployment, moveRollout, putRollout, threeRegions } from "./rollout-fixtures.js";

let stack: TestStack;
let ws: Awaited<ReturnType<typeof createWorkspace>>;
let other: Awaited<ReturnType<typeof createWorkspace>>;

beforeAll(async () => {
  // No agent: deploys created here (for the snapshot) fail their readiness wait quickly.
  stack = await startDeployStack({ readinessTimeoutMs: 1_500, readinessPollMs: 100 });
  ws = await createWorkspace(stack.deps.db);
  other = await createWorkspace(stack.deps.db);
}, 90_000);
afterAll(async () => stack?.close());

const transport = () => createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" });
const environments = () => createClient(EnvironmentService, transport());
const deployments = () => createClient(DeploymentService, transport());
const owner = () => ({ workspaceId: ws.workspaceId, projectId: ws.projectId, environmentId: ws.environments.production });
const keyWith = async (permissions: string[], workspaceId = ws.workspaceId) =>
  (await createRootKey(stack.deps.db, { workspaceId, name: "scoped", permissions, now: Date.now() })).key;

const canaryPolicy = {
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
};

describe("EnvironmentService.GetRolloutPolicy / SetRolloutPolicy", () => {
  it("an environment that never set a policy has the default, marked is_default", async () => {
    const got = await environments().getRolloutPolicy({ projectId: ws.projectId, environmentSlug: "preview" }, bearer(ws.rootKey));
    expect(got.isDefault).toBe(true);
    expect(got.policy).toMatchObject({
      strategy: "blue_green",
      parallelism: 1,
      delayBetweenBatches: "0s",
      failureAction: "rollback",
      healthCheckTimeout: "2m",
      canarySteps: [],
    });
    expect(got.policy?.analysis).toBeUndefined();
  });

  it("round-trips a full policy (root key and operator token), and a request without policy goes back to the default", async () => {
    const set = await environments().setRolloutPolicy(
      { projectId: ws.projectId, environmentSlug: "production", policy: canaryPolicy },
      bearer(ws.rootKey),
    );
    expect(set.policy).toMatchObject(canaryPolicy);
    for (const token of [ws.rootKey, stack.operatorToken]) {
      const got = await environments().getRolloutPolicy({ projectId: ws.projectId, environmentSlug: "production" }, bearer(token));
      expect(got.isDefault).toBe(false);
      expect(got.policy).toMatchObject(canaryPolicy);
    }
    // Only the given fields: the rest take their defaults.
    const partial = await environments().setRolloutPolicy(
      { projectId: ws.projectId, environmentSlug: "production", policy: { strategy: "rolling" } },
      bearer(stack.operatorToken),
    );
    expect(partial.policy).toMatchObject({ strategy: "rolling", parallelism: 1, failureAction: "rollback", healthCheckTimeout: "2m" });
    await environments().setRolloutPolicy({ projectId: ws.projectId, environmentSlug: "production" }, bearer(ws.rootKey));
    const reset = await environments().getRolloutPolicy({ projectId: ws.projectId, environmentSlug: "production" }, bearer(ws.rootKey));
    expect(reset.isDefault).toBe(true);
    expect(reset.policy?.strategy).toBe("blue_green");
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ["strategy", { strategy: "big_bang" }, "policy.strategy: must be one of rolling, canary, blue_green"],
    ["parallelism", { parallelism: 101 }, "policy.parallelism: must be an integer from 1 to 100"],
    ["failure_action", { failureAction: "ignore" }, "policy.failure_action: must be one of pause, rollback"],
    ["delay_between_batches", { delayBetweenBatches: "soon" }, 'policy.delay_between_batches: "soon" is not a duration'],
    ["delay_between_batches (too long)", { delayBetweenBatches: "25h" }, "policy.delay_between_batches: must be at most 24h"],
    ["health_check_timeout", { healthCheckTimeout: "30" }, 'policy.health_check_timeout: "30" is not a duration'],
    [
      "canary_steps[0].weight",
      { canarySteps: [{ weight: 100, pause: "1m" }] },
      "policy.canary_steps[0].weight: must be an integer from 1 to 99",
    ],
    [
      "canary_steps[1].weight (not rising)",
      {
        canarySteps: [
          { weight: 50, pause: "1m" },
          { weight: 10, pause: "1m" },
        ],
      },
      "policy.canary_steps[1].weight: must be greater than the step before (50)",
    ],
    [
      "canary_steps[0].pause",
      { canarySteps: [{ weight: 10, pause: "a while" }] },
      'policy.canary_steps[0].pause: "a while" is not a duration',
    ],
    [
      "canary_steps (too many)",
      { canarySteps: Array.from({ length: 11 }, (_, i) => ({ weight: i + 1, pause: "1s" })) },
      "policy.canary_steps: at most 10 steps",
    ],
    [
      "analysis.window",
      { analysis: { interval: "1m", window: "10s", maxErrorRate: 0.1 } },
      "policy.analysis.window: must be at least the interval",
    ],
    [
      "analysis.max_error_rate",
      { analysis: { interval: "10s", window: "1m", maxErrorRate: 1.5 } },
      "policy.analysis.max_error_rate: must be a fraction from 0 to 1",
    ],
    ["analysis (no limit)", { analysis: { interval: "10s", window: "1m" } }, "policy.analysis: set max_error_rate or max_p99_latency_ms"],
  ];
  it.each(invalid)("rejects a broken %s with invalid_argument naming the field, writing nothing", async (_name, policy, message) => {
    const err = await failure(
      environments().setRolloutPolicy({ projectId: ws.projectId, environmentSlug: "preview", policy }, bearer(ws.rootKey)),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain(message);
    const got = await environments().getRolloutPolicy({ projectId: ws.projectId, environmentSlug: "preview" }, bearer(ws.rootKey));
    expect(got.isDefault).toBe(true);
  });

  it("names every broken field in one answer", async () => {
    const err = await failure(
      environments().setRolloutPolicy(
        { projectId: ws.projectId, environmentSlug: "preview", policy: { strategy: "x", parallelism: 500, failureAction: "y" } },
        bearer(ws.rootKey),
      ),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    for (const field of ["policy.strategy:", "policy.parallelism:", "policy.failure_action:"]) expect(err.rawMessage).toContain(field);
  });

  it("refuses a call without a bearer or with an unknown one (unauthenticated)", async () => {
    const none = await failure(environments().getRolloutPolicy({ projectId: ws.projectId, environmentSlug: "production" }));
    expect(none.code).toBe(Code.Unauthenticated);
    const unknown = await failure(
      environments().setRolloutPolicy(
        { projectId: ws.projectId, environmentSlug: "production", policy: { strategy: "rolling" } },
        bearer("ctrl_nosuchkey"),
      ),
    );
    expect(unknown.code).toBe(Code.Unauthenticated);
  });

  it("another workspace's project, a missing project and a missing environment are the same not_found", async () => {
    const foreign = await failure(
      environments().getRolloutPolicy({ projectId: ws.projectId, environmentSlug: "production" }, bearer(other.rootKey)),
    );
    const missing = await failure(
      environments().getRolloutPolicy({ projectId: "proj_nope", environmentSlug: "production" }, bearer(other.rootKey)),
    );
    expect([foreign.code, missing.code]).toEqual([Code.NotFound, Code.NotFound]);
    expect(foreign.rawMessage).toBe(`project ${ws.projectId} not found`);
    expect(missing.rawMessage).toBe("project proj_nope not found");
    const set = await failure(
      environments().setRolloutPolicy(
        { projectId: ws.projectId, environmentSlug: "production", policy: { strategy: "rolling" } },
        bearer(other.rootKey),
      ),
    );
    expect(set.code).toBe(Code.NotFound);
    const env = await failure(environments().getRolloutPolicy({ projectId: ws.projectId, environmentSlug: "staging" }, bearer(ws.rootKey)));
    expect(env.code).toBe(Code.NotFound);
    expect(env.rawMessage).toContain('environment "staging" not found');
  });

  it("needs read_rollout_policy to read and write_rollout_policy to write", async () => {
    const reader = await keyWith([`project.${ws.projectId}.read_rollout_policy`]);
    await environments().getRolloutPolicy({ projectId: ws.projectId, environmentSlug: "preview" }, bearer(reader));
    const denied = await failure(
      environments().setRolloutPolicy(
        { projectId: ws.projectId, environmentSlug: "preview", policy: { strategy: "rolling" } },
        bearer(reader),
      ),
    );
    expect(denied.code).toBe(Code.PermissionDenied);
    expect(denied.rawMessage).toContain("write_rollout_policy");
    const writer = await keyWith(["project.*.write_rollout_policy"]);
    const cannotRead = await failure(
      environments().getRolloutPolicy({ projectId: ws.projectId, environmentSlug: "preview" }, bearer(writer)),
    );
    expect(cannotRead.code).toBe(Code.PermissionDenied);
    const required = await failure(environments().getRolloutPolicy({ projectId: ws.projectId, environmentSlug: "" }, bearer(ws.rootKey)));
    expect(required.code).toBe(Code.InvalidArgument);
  });
});

describe("the policy snapshot on a deployment", () => {
  const snapshotOf = async (deploymentId: string) =>
    (await stack.deps.db.selectFrom("deployments").select("rollout_policy").where("id", "=", deploymentId).executeTakeFirstOrThrow())
      .rollout_policy;

  it("CreateDeployment (Connect and /v2) copies the policy in force; a later SetRolloutPolicy never changes it", async () => {
    const env = { projectId: ws.projectId, environmentSlug: "preview" };
    await environments().setRolloutPolicy({ ...env, policy: { strategy: "rolling", parallelism: 2 } }, bearer(ws.rootKey));
    const stored = (
      await stack.deps.db
        .selectFrom("environments")
        .select("rollout_policy")
        .where("id", "=", ws.environments.preview)
        .executeTakeFirstOrThrow()
    ).rollout_policy;
    expect(stored).toBeTruthy();

    const viaConnect = await deployments().createDeployment(
      { ...env, source: { case: "dockerImage", value: "ghcr.io/acme/api:1.0.0" } },
      bearer(ws.rootKey),
    );
    const res = await fetch(`${stack.apiUrl}/v2/deploy.createDeployment`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ws.rootKey}` },
      body: JSON.stringify({ ...env, branch: "main", image: "ghcr.io/acme/api:1.0.1" }),
    });
    expect(res.status).toBe(201);
    const viaHttp = ((await res.json()) as { data: { deploymentId: string } }).data.deploymentId;
    for (const id of [viaConnect.deploymentId, viaHttp]) expect(await snapshotOf(id)).toBe(stored);

    await environments().setRolloutPolicy(
      { ...env, policy: { strategy: "canary", canarySteps: [{ weight: 5, pause: "1m" }] } },
      bearer(ws.rootKey),
    );
    for (const id of [viaConnect.deploymentId, viaHttp]) expect(await snapshotOf(id)).toBe(stored);

    // GetDeployment's rollout shows the snapshot, not the environment's current policy.
    await putRollout(stack.deps.db, viaConnect.deploymentId, { ...owner(), environmentId: ws.environments.preview }, { state: "rolling" });
    const got = await deployments().getDeployment({ deploymentId: viaConnect.deploymentId }, bearer(ws.rootKey));
    expect(got.deployment?.rollout?.policy).toMatchObject({ strategy: "rolling", parallelism: 2, canarySteps: [] });

    // A deployment created under the default stores no policy (null = the default).
    await environments().setRolloutPolicy(env, bearer(ws.rootKey));
    const plain = await deployments().createDeployment(
      { ...env, source: { case: "dockerImage", value: "ghcr.io/acme/api:1.0.2" } },
      bearer(ws.rootKey),
    );
    expect(await snapshotOf(plain.deploymentId)).toBeNull();
  });
});

describe("PauseRollout / ResumeRollout / CancelRollout", () => {
  const control = (op: "pause" | "resume" | "cancel", deploymentId: string, token = ws.rootKey) => {
    const client = deployments();
    const call = { pause: client.pauseRollout, resume: client.resumeRollout, cancel: client.cancelRollout }[op];
    return call({ deploymentId }, bearer(token));
  };
  const storedControl = async (deploymentId: string) => (await findDeploymentRollout(stack.deps.db, deploymentId))?.control_state;

  const legal: [RolloutState, ControlState, "pause" | "resume" | "cancel", ControlState][] = [
    ["rolling", "active", "pause", "paused"],
    ["starting", "active", "pause", "paused"],
    ["pending", "active", "pause", "paused"],
    ["rolling", "paused", "resume", "active"],
    ["blocked", "active", "resume", "active"],
    ["rolling", "active", "cancel", "cancel_requested"],
    ["rolling", "paused", "cancel", "cancel_requested"],
    ["blocked", "active", "cancel", "cancel_requested"],
  ];
  it.each(legal)("%s/%s: %s → %s, stored in deployment_rollouts", async (state, from, op, to) => {
    const id = await insertDeployment(stack.deps.db, owner());
    await putRollout(stack.deps.db, id, owner(), { state, control: from });
    const before = await findDeploymentRollout(stack.deps.db, id);
    const res = await control(op, id);
    expect(res.rollout).toMatchObject({ state, controlState: to });
    const after = await findDeploymentRollout(stack.deps.db, id);
    expect(after?.control_state).toBe(to);
    expect(after!.revision).toBeGreaterThan(before!.revision); // the workflow and watchers see the change
    expect(after?.state).toBe(state); // the control surface never writes progress
  });

  const illegal: [RolloutState, ControlState, "pause" | "resume" | "cancel", string][] = [
    ["rolling", "paused", "pause", "already paused"],
    ["rolling", "active", "resume", "not paused"],
    ["blocked", "active", "pause", "blocked by a failure"],
    ["rolling", "cancel_requested", "pause", "being cancelled"],
    ["rolling", "cancel_requested", "resume", "being cancelled"],
    ["rolling", "cancel_requested", "cancel", "being cancelled"],
    ["stable", "active", "pause", "the rollout is stable"],
    ["degraded", "cancel_requested", "resume", "the rollout is degraded"],
    ["failed", "active", "cancel", "the rollout is failed"],
    ["rolled_back", "active", "cancel", "the rollout is rolled_back"],
  ];
  it.each(illegal)("%s/%s: %s is failed_precondition (%s) and changes nothing", async (state, from, op, reason) => {
    const id = await insertDeployment(stack.deps.db, owner());
    await putRollout(stack.deps.db, id, owner(), { state, control: from });
    const err = await failure(control(op, id));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain(reason);
    expect(await storedControl(id)).toBe(from);
  });

  it("a deployment without a rollout is failed_precondition; a missing or foreign one not_found; no permission is permission_denied", async () => {
    const id = await insertDeployment(stack.deps.db, owner());
    const none = await failure(control("pause", id));
    expect(none.code).toBe(Code.FailedPrecondition);
    expect(none.rawMessage).toContain(`deployment ${id} has no rollout`);
    await putRollout(stack.deps.db, id, owner(), { state: "rolling" });
    const foreign = await failure(control("pause", id, other.rootKey));
    const missing = await failure(control("pause", "d_nosuchdeployment"));
    expect([foreign.code, missing.code]).toEqual([Code.NotFound, Code.NotFound]);
    expect(foreign.rawMessage).toBe(`deployment ${id} not found`);
    const reader = await keyWith(["project.*.read_deployment"]);
    const denied = await failure(control("cancel", id, reader));
    expect(denied.code).toBe(Code.PermissionDenied);
    expect(denied.rawMessage).toContain("rollout_deployment");
    const unauthenticated = await failure(deployments().pauseRollout({ deploymentId: id }));
    expect(unauthenticated.code).toBe(Code.Unauthenticated);
    expect(await storedControl(id)).toBe("active");
    // The operator token may do everything.
    expect((await control("pause", id, stack.operatorToken)).rollout?.controlState).toBe("paused");
    const scoped = await keyWith([`project.${ws.projectId}.rollout_deployment`]);
    expect((await control("resume", id, scoped)).rollout?.controlState).toBe("active");
  });

  it("concurrent pause and cancel: cancel always lands, pause either lands first or is refused; never overwritten", async () => {
    for (let round = 0; round < 8; round++) {
      const id = await insertDeployment(stack.deps.db, owner());
      await putRollout(stack.deps.db, id, owner(), { state: "rolling" });
      const [pause, cancel] = await Promise.allSettled([control("pause", id), control("cancel", id)]);
      expect(cancel.status, String((cancel as PromiseRejectedResult).reason)).toBe("fulfilled");
      if (pause.status === "rejected") {
        const err = await failure(Promise.reject(pause.reason));
        expect(err.code).toBe(Code.FailedPrecondition);
        expect(err.rawMessage).toContain("being cancelled");
      }
      expect(await storedControl(id)).toBe("cancel_requested");
    }
  });

  it("concurrent pauses: exactly one wins, the others are told it is already paused", async () => {
    const id = await insertDeployment(stack.deps.db, owner());
    await putRollout(stack.deps.db, id, owner(), { state: "rolling" });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => control("pause", id)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results.filter((r) => r.status === "rejected"))
      expect((await failure(Promise.reject((r as PromiseRejectedResult).reason))).rawMessage).toContain("already paused");
    expect(await storedControl(id)).toBe("paused");
  });
});

describe("/v2 rollout control", () => {
  async function post(path: string, body: unknown, key: string | null = ws.rootKey) {
    const res = await fetch(`${stack.apiUrl}/v2/deploy.${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key !== null ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    });
    const reply = { status: res.status, body: (await res.json()) as any };
    expect(reply.body.meta.requestId).toBeTruthy();
    return reply;
  }

  it("pauses, resumes and cancels with the envelope; refusals are 412 with the reason", async () => {
    const id = await insertDeployment(stack.deps.db, owner());
    await putRollout(stack.deps.db, id, owner(), { state: "rolling" });
    const paused = await post("pauseRollout", { deploymentId: id });
    expect(paused.status).toBe(200);
    expect(paused.body.data.rollout).toMatchObject({ deploymentId: id, state: "rolling", controlState: "paused", strategy: "canary" });
    const again = await post("pauseRollout", { deploymentId: id });
    expect(again.status).toBe(412);
    expect(again.body.error).toMatchObject({ status: 412, title: "Precondition Failed" });
    expect(again.body.error.detail).toContain("already paused");
    expect((await post("resumeRollout", { deploymentId: id })).body.data.rollout.controlState).toBe("active");
    expect((await post("cancelRollout", { deploymentId: id })).body.data.rollout.controlState).toBe("cancel_requested");
    expect(await storedControl(id)).toBe("cancel_requested");
  });

  it("404 for another workspace's or a missing deployment, 412 without a rollout, 403 without permission, 401/400 for the key and body", async () => {
    const id = await insertDeployment(stack.deps.db, owner());
    expect((await post("pauseRollout", { deploymentId: id })).status).toBe(412);
    await putRollout(stack.deps.db, id, owner(), { state: "rolling" });
    const foreign = await post("pauseRollout", { deploymentId: id }, other.rootKey);
    const missing = await post("pauseRollout", { deploymentId: "d_nosuch" }, other.rootKey);
    expect([foreign.status, missing.status]).toEqual([404, 404]);
    expect((await post("cancelRollout", { deploymentId: id }, await keyWith(["project.*.read_deployment"]))).status).toBe(403);
    expect((await post("cancelRollout", { deploymentId: id }, "ctrl_nosuchkey")).status).toBe(401);
    const bad = await post("resumeRollout", {});
    expect(bad.status).toBe(400);
    expect(bad.body.error.errors[0].location).toBe("body.deploymentId");
    expect(await storedControl(id)).toBe("active");
  });

  const storedControl = async (deploymentId: string) => (await findDeploymentRollout(stack.deps.db, deploymentId))?.control_state;
});

describe("GetDeployment's rollout", () => {
  const analysis = {
    region: "us-east",
    verdict: "fail",
    requests: 200,
    errorRate: 0.48,
    p99LatencyMs: 120,
    breaches: ["error rate 0.48 > 0.05 over 200 requests"],
    measuredAt: 4_000,
  };
  const failures = [
    {
      target: "us-east",
      kind: "analysis_failed" as const,
      message: "error rate above the limit",
      observed: { error_rate: 0.48, requests: 200 },
    },
  ];

  it("Connect: strategy, states, completed/failed/remaining, failures, targets, checkpoint, snapshot policy, previous, last analysis", async () => {
    const previous = await insertDeployment(stack.deps.db, owner());
    const id = await insertDeployment(
      stack.deps.db,
      owner(),
      JSON.stringify({ strategy: "canary", canary_steps: [{ weight: 10, pause: "1m" }], failure_action: "pause" }),
    );
    const targets = [threeRegions[0]!, { ...threeRegions[1]!, state: "failed" as const }, threeRegions[2]!];
    await putRollout(stack.deps.db, id, owner(), {
      state: "blocked",
      targets,
      failures,
      lastAnalysis: analysis,
      previousDeploymentId: previous,
      checkpoint: { batchIndex: 1, batchCount: 3, stepIndex: 0, updatedAt: 4_000 },
    });
    const { deployment } = await deployments().getDeployment({ deploymentId: id }, bearer(ws.rootKey));
    const r = deployment?.rollout;
    expect(r).toMatchObject({
      strategy: "canary",
      state: "blocked",
      controlState: "active",
      completedTargets: ["eu-west"],
      failedTargets: ["us-east"],
      remainingTargets: ["ap-south"],
      failureDetails: failures,
      previousDeploymentId: previous,
      policy: { strategy: "canary", failureAction: "pause", canarySteps: [{ weight: 10, pause: "1m" }] },
      checkpoint: { batchIndex: 1, batchCount: 3, stepIndex: 0, updatedAt: 4_000n },
      lastAnalysis: { ...analysis, measuredAt: 4_000n },
    });
    expect(r?.targets.map((t) => [t.region, t.state, t.weight, t.startedAt, t.cutOverAt])).toEqual([
      ["eu-west", "cut_over", 100, 1_000n, 2_000n],
      ["us-east", "failed", 10, 3_000n, 0n],
      ["ap-south", "pending", 0, 0n, 0n],
    ]);
    // No rollout row: no rollout object.
    const plain = await deployments().getDeployment({ deploymentId: previous }, bearer(ws.rootKey));
    expect(plain.deployment?.rollout).toBeUndefined();
  });

  it("/v2: the same object from the same builder", async () => {
    const id = await insertDeployment(stack.deps.db, owner());
    await putRollout(stack.deps.db, id, owner(), { state: "rolling", control: "paused", failures, lastAnalysis: analysis });
    const res = await fetch(`${stack.apiUrl}/v2/deploy.getDeployment`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ws.rootKey}` },
      body: JSON.stringify({ deploymentId: id }),
    });
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: any };
    expect(data.rollout).toMatchObject({
      deploymentId: id,
      strategy: "canary",
      state: "rolling",
      controlState: "paused",
      completedTargets: ["eu-west"],
      failedTargets: [],
      remainingTargets: ["us-east", "ap-south"],
      failureDetails: failures,
      targets: [
        { region: "eu-west", state: "cut_over", weight: 100, startedAt: 1_000, cutOverAt: 2_000 },
        { region: "us-east", state: "cutting_over", weight: 10, startedAt: 3_000, cutOverAt: 0 },
        { region: "ap-south", state: "pending", weight: 0, startedAt: 0, cutOverAt: 0 },
      ],
      checkpoint: { batchIndex: 1, batchCount: 3, stepIndex: 0, updatedAt: 3_000 },
      policy: { strategy: "blue_green", parallelism: 1, failureAction: "rollback", healthCheckTimeout: "2m" },
      previousDeploymentId: "",
      lastAnalysis: analysis,
    });
    const none = await insertDeployment(stack.deps.db, owner());
    const plain = await fetch(`${stack.apiUrl}/v2/deploy.getDeployment`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ws.rootKey}` },
      body: JSON.stringify({ deploymentId: none }),
    });
    expect(((await plain.json()) as { data: any }).data.rollout).toBeUndefined();
  });
});

describe("WatchDeployment and the rollout", () => {
  it("sends the rollout first and again whenever its revision moves (a pause, progress); a deployment without one sends none", async () => {
    const id = await insertDeployment(stack.deps.db, owner());
    await putRollout(stack.deps.db, id, owner(), { state: "rolling" });
    const abort = new AbortController();
    const rollouts: { state: string; controlState: string }[] = [];
    const watching = (async () => {
      try {
        for await (const e of deployments().watchDeployment({ deploymentId: id }, { ...bearer(ws.rootKey), signal: abort.signal }))
          if (e.rollout) rollouts.push({ state: e.rollout.state, controlState: e.rollout.controlState });
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
    })();
    await waitFor("the first rollout event", async () => rollouts.length === 1);
    await deployments().pauseRollout({ deploymentId: id }, bearer(ws.rootKey));
    await waitFor("the paused rollout", async () => rollouts.length === 2);
    await moveRollout(stack.deps.db, id, { state: "blocked" });
    await waitFor("the blocked rollout", async () => rollouts.length === 3);
    // The stream still ends with the deployment's terminal status.
    await stack.deps.db.updateTable("deployments").set({ status: "failed", updated_at: Date.now() }).where("id", "=", id).execute();
    await watching;
    abort.abort();
    expect(rollouts).toEqual([
      { state: "rolling", controlState: "active" },
      { state: "rolling", controlState: "paused" },
      { state: "blocked", controlState: "paused" },
    ]);

    const plain = await insertDeployment(stack.deps.db, owner());
    await stack.deps.db.updateTable("deployments").set({ status: "ready" }).where("id", "=", plain).execute();
    const events = [];
    for await (const e of deployments().watchDeployment({ deploymentId: plain }, bearer(ws.rootKey))) events.push(e);
    expect(events.some((e) => e.rollout)).toBe(false);
  });
});
