/**
 * Crash guarantee: the worker process is killed with SIGKILL (by pid) while a deploy waits for
 * readiness, then restarted on the same port. Restate replays the journal; the deploy completes
 * with exactly one topology row (same version), one row per step and one route per hostname.
 */
import "../src/polyfill.js";
import { startWorkerProcess, waitFor, type WorkerProcess } from "@ctrl/testing";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  attachDeploy,
  createProject,
  insertDeployment,
  playAgent,
  randomSha,
  readDeployState,
  readProject,
  startDeployStack,
  submitDeploy,
  type DeployStack,
} from "./deploy-harness.js";

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
      // Required (no default secret); this deploy is from an image and never reaches S3.
      S3_ACCESS_KEY_ID: "unused-by-this-test",
      S3_SECRET_ACCESS_KEY: "unused-by-this-test",
      REGIONS: "local",
      APEX_DOMAIN: "ctrl.test",
      READINESS_TIMEOUT_MS: "60000",
      READINESS_POLL_MS: "100",
      LOG_LEVEL: "warn",
    },
  });
}

beforeAll(async () => {
  stack = await startDeployStack({}, { worker: false });
});
afterAll(async () => {
  await worker?.stop(2_000);
  await stack?.close();
});

it("completes a deploy after the worker is SIGKILLed mid-readiness, without duplicate rows", async () => {
  worker = await startWorker();
  await worker.waitHealthy();
  const { db, seed } = stack;
  const { projectId, environments } = await createProject(db, seed.workspaceId, "phoenix");
  const sha = randomSha();
  const id = await insertDeployment(db, {
    workspaceId: seed.workspaceId,
    projectId,
    environmentId: environments.production,
    branch: "main",
    sha,
  });
  await submitDeploy(stack.rs, id);

  await waitFor("the deploy to wait for readiness", async () => (await readDeployState(db, id)).stepStatus.readiness === "running", {
    timeoutMs: 30_000,
  });
  const before = await readDeployState(db, id);
  expect(before.topology).toHaveLength(1);

  const port = worker.port;
  const killedPid = worker.pid;
  await worker.kill();
  // While the worker is down the agent reports the instances running; nothing moves yet.
  await playAgent(db, id, ["local"], { status: "running" });
  expect((await readDeployState(db, id)).deployment.status).toBe("deploying");

  worker = await startWorker(port);
  expect(worker.pid).not.toBe(killedPid);
  await worker.waitHealthy();

  const result = await attachDeploy(stack.rs, id);
  expect(result.status).toBe("ready");

  const after = await readDeployState(db, id);
  // One topology row, committed once: the replay did not allocate a second version.
  expect(after.topology.map((t) => [t.region, Number(t.version), t.desired_status])).toEqual([
    ["local", Number(before.topology[0]!.version), "running"],
  ]);
  // One row per step, every one completed (sentinel skipped: no image configured).
  expect(after.steps.map((s) => s.step)).toEqual(["metadata", "topology", "sentinel", "readiness", "openapi", "domains", "cutover"]);
  expect(new Set(after.steps.map((s) => s.step)).size).toBe(after.steps.length);
  expect(after.stepStatus).toMatchObject({
    metadata: "completed",
    topology: "completed",
    sentinel: "skipped",
    readiness: "completed",
    domains: "completed",
    cutover: "completed",
  });
  // One route per hostname.
  expect(after.routes.map((r) => r.fully_qualified_domain_name)).toEqual(
    [
      `phoenix-git-${sha.slice(0, 7)}-local.ctrl.test`,
      "phoenix-git-main-local.ctrl.test",
      "phoenix-local.ctrl.test",
      "phoenix-production-local.ctrl.test",
    ].sort(),
  );
  const allRoutes = await db
    .selectFrom("frontline_routes")
    .select("fully_qualified_domain_name")
    .where("project_id", "=", projectId)
    .execute();
  expect(allRoutes).toHaveLength(4);
  expect(await readProject(db, projectId)).toEqual({ live: id, pinned: false });
  const topologyRows = await db.selectFrom("deployment_topology").select("id").where("deployment_id", "=", id).execute();
  expect(topologyRows).toHaveLength(1);
});
