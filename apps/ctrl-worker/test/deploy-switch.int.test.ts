// Long because the cutover/rollback/promote cases share one restate-server and worker.
/**
 * DeploymentService rollback/promote/cutover through a real restate-server and MariaDB: every
 * precondition returns its own code and changes nothing; success repoints exactly the sticky
 * routes and the pin; a rollback never queues behind a deploy waiting for readiness; concurrent
 * promote and rollback end consistent.
 */
import "../src/polyfill.js";
import type * as clients from "@restatedev/restate-sdk-clients";
import { waitFor } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  attachDeploy,
  createProject,
  deploymentService,
  insertDeployment,
  playAgent,
  randomSha,
  readDeployState,
  readProject,
  startDeployStack,
  submitDeploy,
  type DeployStack,
} from "./deploy-harness.js";

let stack: DeployStack;

beforeAll(async () => {
  stack = await startDeployStack({ regions: ["local"], apexDomain: "ctrl.test", readinessTimeoutMs: 30_000, readinessPollMs: 100 });
});
afterAll(async () => {
  await stack?.close();
});

/** Runs a production (or preview) deploy to `ready` with an agent that reports running at once. */
async function deployReady(projectId: string, environmentId: string, branch: string): Promise<string> {
  const id = await insertDeployment(stack.db, { workspaceId: stack.seed.workspaceId, projectId, environmentId, branch, sha: randomSha() });
  await submitDeploy(stack.rs, id);
  await playAgent(stack.db, id, ["local"], { status: "running" });
  const result = await attachDeploy(stack.rs, id);
  expect(result.status).toBe("ready");
  return id;
}

/** Routes and project pointers, to prove a rejected call changed nothing. */
async function snapshot() {
  const [routes, projects] = await Promise.all([
    stack.db
      .selectFrom("frontline_routes")
      .select(["fully_qualified_domain_name", "deployment_id", "sticky", "updated_at"])
      .orderBy("fully_qualified_domain_name")
      .execute(),
    stack.db.selectFrom("projects").select(["id", "live_deployment_id", "is_rolled_back", "updated_at"]).orderBy("id").execute(),
  ]);
  return { routes, projects };
}

/** Calls and returns the HttpCallError (status + message) it must fail with. */
async function failure(call: () => PromiseLike<unknown>): Promise<{ status: number; message: string }> {
  const err = await Promise.resolve(call()).then(
    () => undefined,
    (e: unknown) => e as clients.HttpCallError,
  );
  if (!err) throw new Error("expected the call to fail");
  // The ingress answers {"code", "message"}; the message carries the worker's `<code>: ` prefix.
  return { status: err.status, message: (JSON.parse(err.responseText) as { message: string }).message };
}

/** Every live/environment route of the project's production environment points at the live deployment. */
async function expectConsistent(projectId: string, productionId: string) {
  const project = await readProject(stack.db, projectId);
  const production = await stack.db
    .selectFrom("frontline_routes")
    .select(["deployment_id", "environment_id"])
    .where("project_id", "=", projectId)
    .where("environment_id", "=", productionId)
    .where("sticky", "in", ["live", "environment"])
    .execute();
  expect(production.length).toBe(2);
  for (const r of production) expect(r.deployment_id).toBe(project.live);
  return project;
}

describe("DeploymentService", () => {
  let projectId: string;
  let prod: string;
  let preview: string;
  let a: string; // first production deploy
  let b: string; // second production deploy: live
  let otherProjectDeployment: string;
  let previewDeployment: string;
  let failedDeployment: string;

  beforeAll(async () => {
    const p = await createProject(stack.db, stack.seed.workspaceId, "web");
    projectId = p.projectId;
    prod = p.environments.production;
    preview = p.environments.preview;
    a = await deployReady(projectId, prod, "release-a");
    b = await deployReady(projectId, prod, "release-b");
    previewDeployment = await deployReady(projectId, preview, "preview-x");
    const q = await createProject(stack.db, stack.seed.workspaceId, "other");
    otherProjectDeployment = await deployReady(q.projectId, q.environments.production, "main");
    failedDeployment = await insertDeployment(stack.db, { workspaceId: stack.seed.workspaceId, projectId, environmentId: prod });
    await stack.db.updateTable("deployments").set({ status: "failed" }).where("id", "=", failedDeployment).execute();
    expect(await readProject(stack.db, projectId)).toEqual({ live: b, pinned: false });
  });

  it("rejects every rollback precondition with its own code and changes nothing", async () => {
    const svc = deploymentService(stack.rs, projectId);
    const before = await snapshot();
    const cases: [() => PromiseLike<unknown>, number, RegExp][] = [
      [
        () => svc.rollback({ sourceDeploymentId: b, targetDeploymentId: b }),
        400,
        /^invalid_argument: source and target deployment must differ/,
      ],
      [
        () => svc.rollback({ sourceDeploymentId: "", targetDeploymentId: a }),
        400,
        /^invalid_argument: sourceDeploymentId and targetDeploymentId are required/,
      ],
      [
        () => svc.rollback({ sourceDeploymentId: b, targetDeploymentId: "d_missing" }),
        404,
        /^not_found: target deployment d_missing not found/,
      ],
      [
        () => svc.rollback({ sourceDeploymentId: "d_missing", targetDeploymentId: a }),
        404,
        /^not_found: source deployment d_missing not found/,
      ],
      [
        () => svc.rollback({ sourceDeploymentId: b, targetDeploymentId: otherProjectDeployment }),
        400,
        /^invalid_argument: target deployment .* another project/,
      ],
      [
        () => svc.rollback({ sourceDeploymentId: b, targetDeploymentId: previewDeployment }),
        400,
        /^invalid_argument: target deployment .* another environment/,
      ],
      [
        () => svc.rollback({ sourceDeploymentId: a, targetDeploymentId: b }),
        412,
        /^failed_precondition: source deployment .* is not the live deployment/,
      ],
      [
        () => svc.rollback({ sourceDeploymentId: b, targetDeploymentId: failedDeployment }),
        412,
        /^failed_precondition: target deployment .* is failed, not ready/,
      ],
      // Keyed by the wrong project: the source does not belong to it.
      [
        () => deploymentService(stack.rs, "proj_other").rollback({ sourceDeploymentId: b, targetDeploymentId: a }),
        404,
        /^not_found: project proj_other not found/,
      ],
    ];
    for (const [call, status, message] of cases) {
      const f = await failure(call);
      expect(f.status).toBe(status);
      expect(f.message).toMatch(message);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("rejects every promote precondition with its own code and changes nothing", async () => {
    const svc = deploymentService(stack.rs, projectId);
    const before = await snapshot();
    const cases: [() => PromiseLike<unknown>, number, RegExp][] = [
      [() => svc.promote({ targetDeploymentId: "" }), 400, /^invalid_argument: targetDeploymentId is required/],
      [() => svc.promote({ targetDeploymentId: "d_missing" }), 404, /^not_found: target deployment d_missing not found/],
      [
        () => svc.promote({ targetDeploymentId: otherProjectDeployment }),
        400,
        /^invalid_argument: target deployment .* does not belong to project/,
      ],
      [() => svc.promote({ targetDeploymentId: failedDeployment }), 412, /^failed_precondition: target deployment .* is failed, not ready/],
      [() => svc.promote({ targetDeploymentId: b }), 412, /^failed_precondition: deployment .* is already live/],
      [
        () => svc.promote({ targetDeploymentId: previewDeployment }),
        400,
        /^invalid_argument: target deployment .* another environment than the live deployment/,
      ],
    ];
    for (const [call, status, message] of cases) {
      const f = await failure(call);
      expect(f.status).toBe(status);
      expect(f.message).toMatch(message);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("rejects a switch without sticky routes and a promote without a live deployment", async () => {
    // A project whose live deployment holds no live/environment routes (e.g. routes deleted by hand).
    const r = await createProject(stack.db, stack.seed.workspaceId, "bare");
    const one = await insertDeployment(stack.db, {
      workspaceId: stack.seed.workspaceId,
      projectId: r.projectId,
      environmentId: r.environments.production,
      status: "ready",
    });
    const two = await insertDeployment(stack.db, {
      workspaceId: stack.seed.workspaceId,
      projectId: r.projectId,
      environmentId: r.environments.production,
      status: "ready",
    });
    const svc = deploymentService(stack.rs, r.projectId);
    const noLive = await failure(() => svc.promote({ targetDeploymentId: two }));
    expect(noLive).toMatchObject({ status: 412 });
    expect(noLive.message).toMatch(/^failed_precondition: project .* has no live deployment/);
    await stack.db.updateTable("projects").set({ live_deployment_id: two }).where("id", "=", r.projectId).execute();
    const before = await snapshot();
    const rb = await failure(() => svc.rollback({ sourceDeploymentId: two, targetDeploymentId: one }));
    expect(rb.status).toBe(412);
    expect(rb.message).toMatch(/^failed_precondition: source deployment .* has no live or environment routes/);
    const pr = await failure(() => svc.promote({ targetDeploymentId: one }));
    expect(pr.status).toBe(412);
    expect(pr.message).toMatch(/^failed_precondition: live deployment .* has no live or environment routes/);
    expect(await snapshot()).toEqual(before);
  });

  it("rolls back: repoints exactly the sticky routes and pins; a pinned deploy keeps off them; promote clears the pin", async () => {
    const svc = deploymentService(stack.rs, projectId);
    const routesOf = async (id: string) =>
      (await readDeployState(stack.db, id)).routes.map((r) => `${r.sticky}:${r.fully_qualified_domain_name}`);
    const aBefore = await routesOf(a);
    const bBefore = await routesOf(b);
    expect(bBefore.filter((r) => r.startsWith("live:") || r.startsWith("environment:")).sort()).toEqual([
      "environment:web-production-local.ctrl.test",
      "live:web-local.ctrl.test",
    ]);

    const result = await svc.rollback({ sourceDeploymentId: b, targetDeploymentId: a });
    expect(result).toEqual({
      projectId,
      liveDeploymentId: a,
      isRolledBack: true,
      repointedHostnames: ["web-local.ctrl.test", "web-production-local.ctrl.test"],
    });
    expect(await readProject(stack.db, projectId)).toEqual({ live: a, pinned: true });
    // b keeps its commit and branch routes; a gained exactly the two sticky ones.
    expect(await routesOf(b)).toEqual(bBefore.filter((r) => r.startsWith("none:") || r.startsWith("branch:")));
    expect((await routesOf(a)).sort()).toEqual(
      [...aBefore, "environment:web-production-local.ctrl.test", "live:web-local.ctrl.test"].sort(),
    );

    // A deploy while pinned takes its commit/branch routes only; live and environment stay on a.
    const c = await deployReady(projectId, prod, "release-c");
    expect((await routesOf(c)).map((r) => r.split(":")[0])).toEqual(["none", "branch"]);
    expect(await readProject(stack.db, projectId)).toEqual({ live: a, pinned: true });
    const cutoverStep = (await readDeployState(stack.db, c)).steps.find((s) => s.step === "cutover");
    expect(cutoverStep?.message).toMatch(
      /left in place \(rolled-back pin or a newer deployment\): web-production-local\.ctrl\.test, web-local\.ctrl\.test$/,
    );
    // The pin is explained with the way out (issue 15).
    expect(cutoverStep?.message).toContain(`production is pinned to ${a} by a rollback; run \`ctrl promote ${c}\` to deploy here again`);

    const promoted = await svc.promote({ targetDeploymentId: c });
    expect(promoted).toEqual({
      projectId,
      liveDeploymentId: c,
      isRolledBack: false,
      repointedHostnames: ["web-local.ctrl.test", "web-production-local.ctrl.test"],
    });
    expect(await readProject(stack.db, projectId)).toEqual({ live: c, pinned: false });
    expect((await routesOf(c)).map((r) => r.split(":")[0]).sort()).toEqual(["branch", "environment", "live", "none"]);
    await expectConsistent(projectId, prod);
  });

  it("returns a rollback promptly while another deploy of the project waits for readiness", async () => {
    const svc = deploymentService(stack.rs, projectId);
    const live = (await readProject(stack.db, projectId)).live!;
    const waiting = await insertDeployment(stack.db, {
      workspaceId: stack.seed.workspaceId,
      projectId,
      environmentId: prod,
      branch: "slow",
      sha: randomSha(),
    });
    await submitDeploy(stack.rs, waiting);
    await waitFor(
      "the deploy to wait for readiness",
      async () => (await readDeployState(stack.db, waiting)).stepStatus.readiness === "running",
    );

    // The rollback completes while the deploy is still waiting (no agent has reported yet).
    const result = await svc.rollback({ sourceDeploymentId: live, targetDeploymentId: a });
    expect(result.liveDeploymentId).toBe(a);
    expect((await readDeployState(stack.db, waiting)).deployment.status).toBe("deploying");

    // The waiting deploy then finishes and respects the pin.
    await playAgent(stack.db, waiting, ["local"], { status: "running" });
    expect((await attachDeploy(stack.rs, waiting)).status).toBe("ready");
    expect(await readProject(stack.db, projectId)).toEqual({ live: a, pinned: true });
    await expectConsistent(projectId, prod);
    await svc.promote({ targetDeploymentId: waiting });
    expect(await readProject(stack.db, projectId)).toEqual({ live: waiting, pinned: false });
  });

  it("lets the last created deploy keep the sticky routes when an older one finishes later", async () => {
    const r = await createProject(stack.db, stack.seed.workspaceId, "race");
    const older = await insertDeployment(stack.db, {
      workspaceId: stack.seed.workspaceId,
      projectId: r.projectId,
      environmentId: r.environments.production,
      branch: "main",
      sha: randomSha(),
    });
    await submitDeploy(stack.rs, older);
    await waitFor(
      "the older deploy to wait for readiness",
      async () => (await readDeployState(stack.db, older)).stepStatus.readiness === "running",
    );
    const newer = await deployReady(r.projectId, r.environments.production, "main");
    expect(await readProject(stack.db, r.projectId)).toEqual({ live: newer, pinned: false });

    await playAgent(stack.db, older, ["local"], { status: "running" });
    expect((await attachDeploy(stack.rs, older)).status).toBe("ready");
    // The older deploy got its own commit hostname only; branch, environment, live and the pointer stay.
    expect((await readDeployState(stack.db, older)).routes.map((x) => x.sticky)).toEqual(["none"]);
    expect((await readDeployState(stack.db, newer)).routes.map((x) => x.sticky).sort()).toEqual(["branch", "environment", "live", "none"]);
    expect(await readProject(stack.db, r.projectId)).toEqual({ live: newer, pinned: false });
  });

  it("ends consistent when promote and rollback are fired at once", async () => {
    const svc = deploymentService(stack.rs, projectId);
    for (let round = 0; round < 3; round++) {
      const live = (await readProject(stack.db, projectId)).live!;
      const candidates = [a, b].filter((d) => d !== live);
      const [rb, pr] = await Promise.allSettled([
        svc.rollback({ sourceDeploymentId: live, targetDeploymentId: candidates[0]! }),
        svc.promote({ targetDeploymentId: candidates[1] ?? candidates[0]! }),
      ]);
      // Each either succeeded or failed with a precondition code, never anything else.
      for (const r of [rb, pr]) {
        if (r.status === "rejected") expect([400, 412]).toContain((r.reason as clients.HttpCallError).status);
      }
      expect(rb.status === "fulfilled" || pr.status === "fulfilled").toBe(true);
      const project = await expectConsistent(projectId, prod);
      // The pin tells which switch came last: rollback pins, promote clears.
      const last = [rb, pr]
        .filter((r) => r.status === "fulfilled")
        .map((r) => (r as PromiseFulfilledResult<{ isRolledBack: boolean; liveDeploymentId: string }>).value);
      expect(last.some((v) => v.isRolledBack === project.pinned && v.liveDeploymentId === project.live)).toBe(true);
    }
  });
});
