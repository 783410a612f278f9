/**
 * SupervisorService against a real restate-server, MariaDB and an in-process worker, with a local
 * receiver that records pages. Guarantees (issue 14, docs/halt-contract.md): 70 with a mapping deploys
 * the mapped image and marks the halted deployment `halted` (one trigger, one resolve); 70 without one
 * shows `image_mapping_missing`, pages, and proceeds once a plan is set; 71 rolls back to the previous
 * ready deployment and pins the project; 72 pages and creates nothing; each halt is acted on and
 * paged once however often it is reported; other exit codes are not halts.
 */
import "../src/polyfill.js";
import { appendUpgradePlan, findHalt, type Db } from "@ctrl/db";
import { waitFor } from "@ctrl/testing";
import * as clients from "@restatedev/restate-sdk-clients";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OnHaltRequest, SupervisorServiceApi } from "../src/api.js";
import {
  attachDeploy,
  createProject,
  insertDeployment,
  playAgent,
  randomSha,
  readProject,
  startDeployStack,
  submitDeploy,
  type DeployStack,
} from "./deploy-harness.js";
import { startPageReceiver, type PageReceiver } from "@ctrl/testing";

let stack: DeployStack;
let receiver: PageReceiver;

beforeAll(async () => {
  receiver = await startPageReceiver();
  stack = await startDeployStack({
    regions: ["local"],
    apexDomain: "ctrl.test",
    readinessTimeoutMs: 30_000,
    readinessPollMs: 100,
    haltPaging: { pagerDutyUrl: receiver.pagerDutyUrl, pagerDutyRoutingKey: "rk-test", slackWebhookUrl: receiver.slackUrl },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await receiver?.close();
});

const supervisor = (deploymentId: string) => stack.rs.objectClient<SupervisorServiceApi>({ name: "SupervisorService" }, deploymentId);

/** Reports a halt as ctrl-api does: one-way, idempotent per deployment, instance and reason. */
async function reportHalt(deploymentId: string, req: OnHaltRequest, reason: string) {
  await stack.rs
    .objectSendClient<SupervisorServiceApi>({ name: "SupervisorService" }, deploymentId)
    .onHalt(req, clients.rpc.sendOpts({ idempotencyKey: `${deploymentId}:${req.instance}:${reason}` }));
}

async function deployReady(projectId: string, environmentId: string, image: string, createdAt?: number): Promise<string> {
  const id = await insertDeployment(stack.db, {
    workspaceId: stack.seed.workspaceId,
    projectId,
    environmentId,
    image,
    sha: randomSha(),
    ...(createdAt ? { createdAt } : {}),
  });
  await submitDeploy(stack.rs, id);
  await playAgent(stack.db, id, ["local"], { status: "running" });
  expect((await attachDeploy(stack.rs, id)).status).toBe("ready");
  return id;
}

async function haltState(
  db: Db,
  deploymentId: string,
  reason: "upgrade_required" | "binary_too_new" | "downgrade_detected",
  state: string,
) {
  return waitFor(`halt of ${deploymentId} ${state}`, async () => {
    const h = await findHalt(db, deploymentId, reason);
    return h?.state === state ? h : undefined;
  });
}

async function topologyStatus(deploymentId: string) {
  const rows = await stack.db
    .selectFrom("deployment_topology")
    .select("desired_status")
    .where("deployment_id", "=", deploymentId)
    .execute();
  return rows.map((r) => r.desired_status);
}

async function deploymentsOf(projectId: string) {
  return stack.db.selectFrom("deployments").select(["id", "image", "status"]).where("project_id", "=", projectId).execute();
}

describe("SupervisorService", () => {
  it("70 with a mapping: deploys the mapped image, the halted one is halted, one page and one resolve", async () => {
    const { projectId, environments } = await createProject(stack.db, stack.seed.workspaceId, "halt-70");
    const halted = await deployReady(projectId, environments.production, "registry.example/node:1");
    await appendUpgradePlan(
      stack.db,
      { workspaceId: stack.seed.workspaceId, projectId, environmentId: environments.production },
      { name: "v2", image: "registry.example/node:2", minHeight: 100, createdBy: "test", now: Date.now() },
    );
    const req = { instance: `${halted}-local-0`, exitCode: 70, intent: { reason: "upgrade_required", planName: "v2", height: 1000 } };
    await reportHalt(halted, req, "upgrade_required");
    await reportHalt(halted, req, "upgrade_required"); // the same report again: one action
    const acting = await waitFor(
      "replacement",
      async () => (await findHalt(stack.db, halted, "upgrade_required"))?.replaced_by_deployment_id ?? undefined,
    );
    await playAgent(stack.db, acting, ["local"], { status: "running" });
    const done = await haltState(stack.db, halted, "upgrade_required", "halted");
    expect(done.replaced_by_deployment_id).toBe(acting);
    expect(await readProject(stack.db, projectId)).toEqual({ live: acting, pinned: false });
    // Acted: the halted deployment's instances are torn down (ends a stay-alive one before its grace window).
    expect(await topologyStatus(halted)).toEqual(["stopped"]);
    expect(await topologyStatus(acting)).toEqual(["running"]);
    const all = await deploymentsOf(projectId);
    expect(all).toHaveLength(2);
    expect(all.find((d) => d.id === acting)).toMatchObject({ image: "registry.example/node:2", status: "ready" });
    // A later report (another instance, the exit after a live intent) changes nothing.
    expect(await supervisor(halted).onHalt({ instance: `${halted}-local-1`, exitCode: 70 })).toMatchObject({ state: "halted" });
    await waitFor("resolve", async () =>
      receiver.pagerDuty(`${halted}:upgrade_required`).length >= 2 &&
      receiver.pages.filter((p) => p.path.startsWith("/slack") && String(p.body.text).includes(halted)).length >= 2
        ? true
        : undefined,
    );
    const events = receiver.pagerDuty(`${halted}:upgrade_required`).map((e) => e.event_action);
    expect(events).toEqual(["trigger", "resolve"]);
    const trigger = receiver.pagerDuty(`${halted}:upgrade_required`)[0]!;
    expect(trigger).toMatchObject({ routing_key: "rk-test", payload: { severity: "error", source: `ctrl/${projectId}/${halted}` } });
    expect((trigger.payload as { custom_details: Record<string, unknown> }).custom_details).toMatchObject({
      plan_name: "v2",
      exit_code: 70,
    });
    expect(receiver.pages.filter((p) => p.path.startsWith("/slack") && String(p.body.text).includes(halted))).toHaveLength(2);
  });

  it("70 without a mapping: image_mapping_missing and a page; a plan set later makes it proceed", async () => {
    const { projectId, environments } = await createProject(stack.db, stack.seed.workspaceId, "halt-70-missing");
    const halted = await deployReady(projectId, environments.production, "registry.example/node:1");
    // Exit code only (an app without a status endpoint): the `default` plan.
    await reportHalt(halted, { instance: `${halted}-local-0`, exitCode: 70 }, "upgrade_required");
    const waiting = await haltState(stack.db, halted, "upgrade_required", "waiting_for_plan");
    expect(waiting).toMatchObject({ condition: "image_mapping_missing", plan_name: "default" });
    const step = await stack.db
      .selectFrom("deployment_steps")
      .selectAll()
      .where("deployment_id", "=", halted)
      .where("step", "=", "halt")
      .executeTakeFirstOrThrow();
    expect(step).toMatchObject({ status: "failed" });
    expect(step.message).toContain("image_mapping_missing");
    await waitFor("trigger", async () => (receiver.pagerDuty(`${halted}:upgrade_required`).length === 1 ? true : undefined));
    // The page says what is missing and how to fix it.
    const trigger = receiver.pagerDuty(`${halted}:upgrade_required`)[0] as {
      payload: { summary: string; custom_details: Record<string, unknown> };
    };
    expect(trigger.payload.custom_details).toMatchObject({ condition: "image_mapping_missing", state: "waiting_for_plan" });
    expect(trigger.payload.summary).toContain("ctrl plans set default");
    expect(await deploymentsOf(projectId)).toHaveLength(1);

    await appendUpgradePlan(
      stack.db,
      { workspaceId: stack.seed.workspaceId, projectId, environmentId: environments.production },
      { name: "default", image: "registry.example/node:3", minHeight: null, createdBy: "test", now: Date.now() },
    );
    await stack.rs.objectSendClient<SupervisorServiceApi>({ name: "SupervisorService" }, halted).resume();
    const replacement = await waitFor(
      "replacement",
      async () => (await findHalt(stack.db, halted, "upgrade_required"))?.replaced_by_deployment_id ?? undefined,
    );
    await playAgent(stack.db, replacement, ["local"], { status: "running" });
    await haltState(stack.db, halted, "upgrade_required", "halted");
    await waitFor("resolve", async () => (receiver.pagerDuty(`${halted}:upgrade_required`).length === 2 ? true : undefined));
    expect(receiver.pagerDuty(`${halted}:upgrade_required`).map((e) => e.event_action)).toEqual(["trigger", "resolve"]);
  });

  it("71: pages, rolls back to the previous ready deployment and pins the project", async () => {
    const { projectId, environments } = await createProject(stack.db, stack.seed.workspaceId, "halt-71");
    const previous = await deployReady(projectId, environments.production, "registry.example/node:1", Date.now() - 10_000);
    const halted = await deployReady(projectId, environments.production, "registry.example/node:9");
    expect((await readProject(stack.db, projectId)).live).toBe(halted);
    // A live intent seen before the exit: reason from the status endpoint, no exit code yet.
    const outcome = await supervisor(halted).onHalt({
      instance: `${halted}-local-0`,
      intent: { reason: "binary_too_new", info: "state at v1" },
    });
    expect(outcome).toMatchObject({ handled: true, action: "rollback", state: "halted", replacedByDeploymentId: previous });
    expect(await readProject(stack.db, projectId)).toEqual({ live: previous, pinned: true });
    expect(await topologyStatus(halted)).toEqual(["stopped"]);
    // The exit that follows is the same halt: recorded, not acted on twice.
    await supervisor(halted).onHalt({ instance: `${halted}-local-0`, exitCode: 71 });
    expect((await findHalt(stack.db, halted, "binary_too_new"))?.exit_code).toBe(71);
    const events = receiver.pagerDuty(`${halted}:binary_too_new`);
    expect(events.map((e) => e.event_action)).toEqual(["trigger", "resolve"]);
    expect(events[0]).toMatchObject({ payload: { severity: "critical" } });
    expect(await deploymentsOf(projectId)).toHaveLength(2);
  });

  it("72: pages, creates nothing and waits for a human; ack resolves it", async () => {
    const { projectId, environments } = await createProject(stack.db, stack.seed.workspaceId, "halt-72");
    const previous = await deployReady(projectId, environments.production, "registry.example/node:1", Date.now() - 10_000);
    const halted = await deployReady(projectId, environments.production, "registry.example/node:2");
    const outcome = await supervisor(halted).onHalt({ instance: `${halted}-local-0`, exitCode: 72 });
    expect(outcome).toMatchObject({ handled: true, action: "wait_for_human", state: "waiting_for_human" });
    expect(await deploymentsOf(projectId)).toHaveLength(2);
    expect(await readProject(stack.db, projectId)).toEqual({ live: halted, pinned: false });
    expect(previous).toBeTruthy();
    // Waiting for a person: nothing is torn down or restarted by the supervisor.
    expect(await topologyStatus(halted)).toEqual(["running"]);
    expect(receiver.pagerDuty(`${halted}:downgrade_detected`).map((e) => e.event_action)).toEqual(["trigger"]);
    expect(await supervisor(halted).acknowledge({ by: "operator" })).toMatchObject({ state: "acknowledged" });
    expect(await supervisor(halted).acknowledge({})).toMatchObject({ state: "acknowledged" });
    expect(receiver.pagerDuty(`${halted}:downgrade_detected`).map((e) => e.event_action)).toEqual(["trigger", "resolve"]);
  });

  it("any other exit is not a halt: nothing recorded, nothing paged", async () => {
    const { projectId, environments } = await createProject(stack.db, stack.seed.workspaceId, "halt-none");
    const id = await deployReady(projectId, environments.production, "registry.example/node:1");
    const before = receiver.pages.length;
    expect(await supervisor(id).onHalt({ instance: `${id}-local-0`, exitCode: 1 })).toEqual({ handled: false });
    expect(await stack.db.selectFrom("deployment_halts").selectAll().where("deployment_id", "=", id).execute()).toEqual([]);
    expect(receiver.pages.length).toBe(before);
  });
});
