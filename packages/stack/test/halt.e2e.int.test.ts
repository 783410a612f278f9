/**
 * Halt supervision through the real system (src/system.ts): ctrl-api, the worker process,
 * restate-server, MariaDB, s3rver, the krane agent and frontline, driven with the `ctrl` binary,
 * with a local receiver that records pages. The workload is examples/halting, halted on request:
 * with a live intent on its status path (stay-alive, or announced before its exit), or by exit code
 * alone (no status endpoint).
 *
 * Guarantees (docs/halt-contract.md): 70 with a mapping creates a deployment of the mapped image
 * that serves through frontline, the halted one is `halted`, one page and one resolve; 71 rolls
 * back to the previous live deployment and pins the project; 72 pages, is not restarted and creates
 * nothing until `ctrl supervise ack`; 70 without a mapping shows image_mapping_missing and pages,
 * then `ctrl plans set` makes the supervisor proceed on its own.
 */
import { startPageReceiver, waitFor, type PageReceiver } from "@ctrl/testing";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSystem, type System } from "../src/system.js";

let sys: System;
let receiver: PageReceiver;
beforeAll(async () => {
  receiver = await startPageReceiver();
  sys = await startSystem({
    workerEnv: {
      HALT_PAGERDUTY_URL: receiver.pagerDutyUrl,
      HALT_PAGERDUTY_ROUTING_KEY: "rk-e2e",
      HALT_SLACK_WEBHOOK_URL: receiver.slackUrl,
    },
  });
}, 180_000);
afterAll(async () => {
  await sys?.close();
  await receiver?.close();
}, 60_000);

const project = () => ["--project", sys.stack.seed.projectId];

async function deploy(dir: string, env: "production" | "preview") {
  const run = await sys.ctrl(["deploy", dir, ...project(), "--env", env, "--json"]);
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
  const out = run.json();
  return {
    id: out.deploymentId as string,
    image: out.image as string,
    envHost: (out.hostnames as string[]).find((h) => h.includes(`-${env}-`))!,
  };
}

/** POSTs to the deployment's instance directly (what an operator's script or the chain itself does). */
async function haltNow(deploymentId: string, query: string) {
  const instance = await sys.stack.database.db
    .selectFrom("instances")
    .select("address")
    .where("deployment_id", "=", deploymentId)
    .where("status", "=", "running")
    .executeTakeFirstOrThrow();
  const [host, port] = instance.address.split(":");
  await new Promise<void>((resolve, reject) => {
    const req = http.request({ host, port: Number(port), method: "POST", path: `/halt?${query}`, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve());
    });
    req.on("error", reject);
    req.end();
  });
}

async function status(deploymentId: string) {
  const run = await sys.ctrl(["status", deploymentId, "--json"]);
  expect(run.code, run.stderr).toBe(0);
  return run.json();
}

/** Waits for the deployment's halt to reach `state` (and, when given, to carry the exit that followed a live intent). */
async function haltOf(deploymentId: string, state: string, exitCode?: number, timeoutMs = 60_000) {
  return waitFor(
    `halt of ${deploymentId} to be ${state}${exitCode ? ` with exit ${exitCode}` : ""}`,
    async () => {
      const h = (await status(deploymentId)).halt as Record<string, any> | undefined;
      return h?.state === state && (exitCode === undefined || h.exitCode === exitCode) ? h : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

async function deploymentIds(): Promise<string[]> {
  const rows = await sys.stack.database.db
    .selectFrom("deployments")
    .select("id")
    .where("project_id", "=", sys.stack.seed.projectId)
    .execute();
  return rows.map((r) => r.id).sort();
}

const events = (deploymentId: string, reason: string) => receiver.pagerDuty(`${deploymentId}:${reason}`).map((e) => e.event_action);

describe("halt supervision through the real system", () => {
  let helloImage: string;

  it("70 with a mapping: the mapped image is deployed and serves through frontline; the halted one is halted; one page, one resolve", async () => {
    helloImage = (await deploy("examples/hello", "preview")).image;
    const halting = await deploy("examples/halting", "production");
    const set = await sys.ctrl(["plans", "set", "v2", "--image", helloImage, ...project(), "--json"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.json()).toMatchObject({ plan: { name: "v2", image: helloImage, version: 1 } });

    // Stay-alive: the intent is read from the living process; the supervisor acts on it, then the
    // agent terminates the halted instance (long before ctrl.json's 300 s grace window).
    await haltNow(halting.id, "code=70&plan=v2&stay=1");
    const halt = await haltOf(halting.id, "halted");
    expect(halt).toMatchObject({ reason: "upgrade_required", planName: "v2", action: "upgrade" });
    expect(halt.exitCode).toBeUndefined();
    const replacement = halt.replacedByDeploymentId as string;
    await sys.waitServes(halting.envHost, replacement);
    expect(await status(replacement)).toMatchObject({ status: "READY", image: helloImage });
    await waitFor("resolve", async () => (events(halting.id, "upgrade_required").length >= 2 ? true : undefined), { timeoutMs: 30_000 });
    expect(events(halting.id, "upgrade_required")).toEqual(["trigger", "resolve"]);

    await waitFor(
      "the halted instance to be torn down",
      async () => {
        const rows = await sys.stack.database.db.selectFrom("instances").select("id").where("deployment_id", "=", halting.id).execute();
        return rows.length === 0 ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const human = await sys.ctrl(["status", halting.id]);
    expect(human.stdout).toMatch(
      /^halt\s+halted: needs an upgrade \(announced on its status path, plan v2, height \d+\) — done: replaced by d_\w+ \[examples\/halting stopped at height \d+\]$/m,
    );
  }, 240_000);

  it("72: pages; the instance is not restarted; no new deployment appears until a person acks", async () => {
    const halting = await deploy("examples/halting", "preview");
    const ids = await deploymentIds();
    // No status endpoint (an older version): the exit code alone reaches the branch.
    await haltNow(halting.id, "code=72&nostatus=1");
    const halt = await haltOf(halting.id, "waiting_for_human", 72);
    expect(halt).toMatchObject({ reason: "downgrade_detected", exitCode: 72, action: "wait_for_human" });
    expect(halt.info).toBeUndefined();
    expect(halt.height).toBeUndefined();
    const instance = await sys.stack.database.db
      .selectFrom("instances")
      .select(["status", "exit_code"])
      .where("deployment_id", "=", halting.id)
      .executeTakeFirstOrThrow();
    expect(instance).toMatchObject({ status: "failed", exit_code: 72 });
    expect(await deploymentIds()).toEqual(ids);
    await waitFor("trigger", async () => (events(halting.id, "downgrade_detected").length >= 1 ? true : undefined), { timeoutMs: 30_000 });
    expect(events(halting.id, "downgrade_detected")).toEqual(["trigger"]);

    const ack = await sys.ctrl(["supervise", "ack", halting.id, "--json"]);
    expect(ack.code, ack.stderr).toBe(0);
    expect(ack.json()).toMatchObject({ halt: { state: "acknowledged" } });
    expect(events(halting.id, "downgrade_detected")).toEqual(["trigger", "resolve"]);
    expect(await deploymentIds()).toEqual(ids);
  }, 240_000);

  it("70 without a mapping: image_mapping_missing and a page; `ctrl plans set` makes the supervisor proceed", async () => {
    const halting = await deploy("examples/halting", "preview");
    await haltNow(halting.id, "code=70&plan=v9");
    const waiting = await haltOf(halting.id, "waiting_for_plan");
    expect(waiting).toMatchObject({ reason: "upgrade_required", planName: "v9" });
    expect((await status(halting.id)).steps).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ step: "halt", status: "failed", message: expect.stringContaining("image_mapping_missing") }),
      ]),
    );
    const human = await sys.ctrl(["status", halting.id]);
    expect(human.stdout).toMatch(/^halt\s+halted: needs an upgrade .*waiting for an upgrade plan: image_mapping_missing/m);
    await waitFor("trigger", async () => (events(halting.id, "upgrade_required").length >= 1 ? true : undefined), { timeoutMs: 30_000 });

    const set = await sys.ctrl(["plans", "set", "v9", "--image", helloImage, "--env", "preview", ...project(), "--json"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.json().resumedDeploymentIds).toEqual([halting.id]);
    const halt = await haltOf(halting.id, "halted");
    await sys.waitServes(halting.envHost, halt.replacedByDeploymentId as string);
    await waitFor("resolve", async () => (events(halting.id, "upgrade_required").length >= 2 ? true : undefined), { timeoutMs: 30_000 });
    expect(events(halting.id, "upgrade_required")).toEqual(["trigger", "resolve"]);

    const ls = await sys.ctrl(["plans", "ls", "--env", "preview", ...project(), "--json"]);
    expect((ls.json() as unknown as { name: string }[]).map((p) => p.name)).toEqual(["v9"]);
    const rm = await sys.ctrl(["plans", "rm", "v9", "--env", "preview", ...project(), "--json"]);
    expect(rm.json()).toMatchObject({ deleted: "v9", version: 2 });
    expect((await sys.ctrl(["plans", "ls", "--env", "preview", ...project(), "--json"])).json()).toEqual([]);
  }, 240_000);
  // Last: the rollback pins the project, and a pinned project's deploys do not take the environment routes.
  it("71: pages, rolls back to the previous live deployment and pins the project", async () => {
    const before = await sys.stack.database.db
      .selectFrom("projects")
      .select("live_deployment_id")
      .where("id", "=", sys.stack.seed.projectId)
      .executeTakeFirstOrThrow();
    const previous = before.live_deployment_id!;
    const halting = await deploy("examples/halting", "production");
    await haltNow(halting.id, "code=71");
    // Acted on the live intent; the halted deployment is torn down before its own exit.
    const halt = await haltOf(halting.id, "halted");
    expect(halt).toMatchObject({ reason: "binary_too_new", action: "rollback", replacedByDeploymentId: previous });
    await sys.waitServes(halting.envHost, previous);
    const project = await sys.stack.database.db
      .selectFrom("projects")
      .select(["live_deployment_id", "is_rolled_back"])
      .where("id", "=", sys.stack.seed.projectId)
      .executeTakeFirstOrThrow();
    expect({ live: project.live_deployment_id, pinned: Boolean(Number(project.is_rolled_back)) }).toEqual({ live: previous, pinned: true });
    await waitFor("resolve", async () => (events(halting.id, "binary_too_new").length >= 2 ? true : undefined), { timeoutMs: 30_000 });
    expect(events(halting.id, "binary_too_new")).toEqual(["trigger", "resolve"]);
  }, 240_000);
});
