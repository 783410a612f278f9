// Long because the DeployWorkflow cases share one restate-server, worker and fake agents.
/**
 * DeployWorkflow against real MariaDB and a real restate-server; the test plays ctrl-api (inserts a
 * pending deployment, submits the workflow) and the agents (upserts `instances` for the topology
 * rows it sees).
 */
import "../src/polyfill.js";
import type * as clients from "@restatedev/restate-sdk-clients";
import http from "node:http";
import { waitFor } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  attachDeploy,
  createProject,
  deployClient,
  insertDeployment,
  playAgent,
  randomSha,
  readDeployState,
  readProject,
  startDeployStack,
  submitDeploy,
  type DeployStack,
} from "./deploy-harness.js";

const openapiDoc = JSON.stringify({ openapi: "3.1.0", info: { title: "hello", version: "1" }, paths: {} });
let stack: DeployStack;
let openapiServer: http.Server;
let openapiAddress: string;
let badServer: http.Server;
let badAddress: string;
let badMode: "big" | "slow" = "big";

beforeAll(async () => {
  // Serves a small spec on /openapi.json and an oversized one on /big.json.
  openapiServer = http.createServer((req, res) => {
    if (req.url === "/openapi.json") return void res.writeHead(200, { "content-type": "application/json" }).end(openapiDoc);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => openapiServer.listen(0, "127.0.0.1", r));
  openapiAddress = `127.0.0.1:${(openapiServer.address() as { port: number }).port}`;
  // Streams an oversized document without a content-length (chunked), then never finishes a second one.
  badServer = http.createServer((req, res) => {
    if (req.url === "/openapi.json" && badMode === "big") {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"openapi":"3.1.0","x":"');
      res.write("a".repeat(20_000));
      return void res.end('"}');
    }
    // "slow": headers sent, body never completes.
    res.writeHead(200, { "content-type": "application/json" });
    res.write("{");
  });
  await new Promise<void>((r) => badServer.listen(0, "127.0.0.1", r));
  badAddress = `127.0.0.1:${(badServer.address() as { port: number }).port}`;
  stack = await startDeployStack({
    regions: ["local"],
    apexDomain: "ctrl.test",
    readinessTimeoutMs: 5_000,
    readinessPollMs: 100,
    openapiTimeoutMs: 1_000,
    openapiMaxBytes: 10_000,
    sentinelImage: "ghcr.io/ctrl/sentinel:test",
  });
});

afterAll(async () => {
  await stack?.close();
  openapiServer?.close();
  badServer?.closeAllConnections();
  badServer?.close();
});

describe("DeployWorkflow", () => {
  it("deploys an image to production in every region: topology, sentinels, readiness, openapi, routes, live", async () => {
    const { db, seed } = stack;
    const { projectId, environments } = await createProject(db, seed.workspaceId, "shop", { regions: ["eu-1", "us-1"] });
    const sha = randomSha();
    const id = await insertDeployment(db, {
      workspaceId: seed.workspaceId,
      projectId,
      environmentId: environments.production,
      branch: "feature/Cart",
      sha,
      replicas: 2,
    });
    await submitDeploy(stack.rs, id);

    // pending → deploying, and the deploy waits for the agents.
    await waitFor("deploying and waiting for readiness", async () => {
      const s = await readDeployState(db, id);
      return s.deployment.status === "deploying" && s.stepStatus.readiness === "running";
    });
    const topology = await playAgent(db, id, ["eu-1", "us-1"], { status: "running", address: openapiAddress });
    expect(topology.map((t) => t.region).sort()).toEqual(["eu-1", "us-1"]);

    const result = await attachDeploy(stack.rs, id);
    const hostnames = [
      `shop-git-${sha.slice(0, 7)}-local.ctrl.test`,
      "shop-git-feature-cart-local.ctrl.test",
      "shop-production-local.ctrl.test",
      "shop-local.ctrl.test",
    ];
    expect(result).toEqual({ deploymentId: id, status: "ready", hostnames: [...hostnames].sort() });

    const s = await readDeployState(db, id);
    expect(s.deployment.status).toBe("ready");
    expect(s.deployment.error_message).toBeNull();
    expect(s.deployment.openapi_spec).toBe(openapiDoc);
    expect(s.stepStatus).toEqual({
      metadata: "completed",
      topology: "completed",
      sentinel: "completed",
      readiness: "completed",
      openapi: "completed",
      domains: "completed",
      cutover: "completed",
    });
    expect(s.steps.every((step) => step.ended_at !== null && step.ended_at >= step.started_at)).toBe(true);
    expect(s.topology.map((t) => [t.region, t.desired_replicas, t.desired_status])).toEqual([
      ["eu-1", 2, "running"],
      ["us-1", 2, "running"],
    ]);
    expect(s.routes.map((r) => [r.fully_qualified_domain_name, r.sticky])).toEqual(
      [
        [hostnames[0], "none"],
        [hostnames[1], "branch"],
        [hostnames[2], "environment"],
        [hostnames[3], "live"],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
    expect(await readProject(db, projectId)).toEqual({ live: id, pinned: false });

    const sentinels = await db
      .selectFrom("sentinels")
      .selectAll()
      .where("environment_id", "=", environments.production)
      .orderBy("region")
      .execute();
    expect(sentinels.map((x) => [x.region, x.desired_replicas, x.image, x.desired_state])).toEqual([
      ["eu-1", 3, "ghcr.io/ctrl/sentinel:test", "running"],
      ["us-1", 3, "ghcr.io/ctrl/sentinel:test", "running"],
    ]);
    // Versions are unique per region across topology and sentinel rows.
    for (const region of ["eu-1", "us-1"]) {
      const versions = [...s.topology.filter((t) => t.region === region), ...sentinels.filter((x) => x.region === region)].map((r) =>
        Number(r.version),
      );
      expect(new Set(versions).size).toBe(versions.length);
    }

    // The shared status handler reads the same row.
    expect(await deployClient(stack.rs, id).status()).toEqual(result);

    // A second deploy of the environment reuses the sentinels (no new rows, no new versions).
    const second = await insertDeployment(db, {
      workspaceId: seed.workspaceId,
      projectId,
      environmentId: environments.production,
      branch: "main",
      sha: randomSha(),
    });
    await submitDeploy(stack.rs, second);
    await playAgent(db, second, ["eu-1", "us-1"], { status: "running" });
    expect((await attachDeploy(stack.rs, second)).status).toBe("ready");
    const after = await db
      .selectFrom("sentinels")
      .selectAll()
      .where("environment_id", "=", environments.production)
      .orderBy("region")
      .execute();
    expect(after.map((x) => [x.id, Number(x.version)])).toEqual(sentinels.map((x) => [x.id, Number(x.version)]));
    expect(await readProject(db, projectId)).toEqual({ live: second, pinned: false });
    // The live and environment routes moved to the second deploy; the first keeps its commit route.
    expect((await readDeployState(db, id)).routes.map((r) => r.sticky)).toEqual(["none", "branch"]);
  });

  it("runs 20 deploys of one project at once: unique versions, and the last created one holds the routes", async () => {
    const { db, seed } = stack;
    const { projectId, environments } = await createProject(db, seed.workspaceId, "burst");
    const base = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(
        await insertDeployment(db, {
          workspaceId: seed.workspaceId,
          projectId,
          environmentId: environments.production,
          branch: `b${i}`,
          sha: randomSha(),
          createdAt: base + i,
        }),
      );
    }
    await Promise.all(ids.map((id) => submitDeploy(stack.rs, id)));
    // Agents answer in any order (started newest first); whichever finishes last, the newest keeps the routes.
    await Promise.all([...ids].reverse().map((id) => playAgent(db, id, ["local"], { status: "running" })));
    const results = await Promise.all(ids.map((id) => attachDeploy(stack.rs, id)));
    expect(results.map((r) => r.status)).toEqual(ids.map(() => "ready"));

    const topology = await db
      .selectFrom("deployment_topology")
      .select(["deployment_id", "version"])
      .where("deployment_id", "in", ids)
      .execute();
    expect(topology).toHaveLength(20);
    expect(new Set(topology.map((t) => Number(t.version))).size).toBe(20);
    const newest = ids[19]!;
    expect(await readProject(db, projectId)).toEqual({ live: newest, pinned: false });
    const sticky = await db
      .selectFrom("frontline_routes")
      .select(["deployment_id", "sticky"])
      .where("project_id", "=", projectId)
      .where("sticky", "in", ["live", "environment"])
      .execute();
    expect(sticky.map((r) => r.deployment_id)).toEqual([newest, newest]);
    // Every deploy kept its own commit and branch hostnames.
    const own = await db
      .selectFrom("frontline_routes")
      .select(["deployment_id"])
      .where("project_id", "=", projectId)
      .where("sticky", "in", ["none", "branch"])
      .execute();
    expect(own).toHaveLength(40);
  });

  it("gives a preview deploy no live route, leaves the live pointer alone and skips a failing openapi scrape", async () => {
    const { db, seed } = stack;
    const { projectId, environments } = await createProject(db, seed.workspaceId, "blog");
    const id = await insertDeployment(db, {
      workspaceId: seed.workspaceId,
      projectId,
      environmentId: environments.preview,
      branch: "docs",
      sha: "",
    });
    await submitDeploy(stack.rs, id);
    // Nothing listens on port 1: the scrape fails, the step is skipped, the deploy goes on.
    await playAgent(db, id, ["local"], { status: "running", address: "127.0.0.1:1" });
    const result = await attachDeploy(stack.rs, id);
    expect(result.status).toBe("ready");
    expect(result.hostnames).toEqual(["blog-git-docs-local.ctrl.test", "blog-preview-local.ctrl.test"]);
    const s = await readDeployState(db, id);
    expect(s.stepStatus.openapi).toBe("skipped");
    expect(s.steps.find((x) => x.step === "openapi")?.message).toMatch(/^skipped: GET http:\/\/127\.0\.0\.1:1\/openapi\.json failed/);
    expect(s.deployment.openapi_spec).toBeNull();
    expect(await readProject(db, projectId)).toEqual({ live: null, pinned: false });
    const sentinel = await db
      .selectFrom("sentinels")
      .selectAll()
      .where("environment_id", "=", environments.preview)
      .executeTakeFirstOrThrow();
    expect(sentinel.desired_replicas).toBe(1);

    // Cancelling a finished deploy changes nothing.
    expect(await deployClient(stack.rs, id).cancel({ reason: "too late" })).toMatchObject({ status: "ready" });
    const after = await readDeployState(db, id);
    expect(after.deployment.status).toBe("ready");
    expect(after.topology[0]!.desired_status).toBe("running");
  });

  it("skips an oversized or a never-finishing OpenAPI document and still goes ready", async () => {
    const { db, seed } = stack;
    const { projectId, environments } = await createProject(db, seed.workspaceId, "specs");
    for (const mode of ["big", "slow"] as const) {
      badMode = mode;
      const id = await insertDeployment(db, {
        workspaceId: seed.workspaceId,
        projectId,
        environmentId: environments.preview,
        branch: mode,
      });
      await submitDeploy(stack.rs, id);
      await playAgent(db, id, ["local"], { status: "running", address: badAddress });
      expect((await attachDeploy(stack.rs, id)).status).toBe("ready");
      const s = await readDeployState(db, id);
      expect(s.stepStatus.openapi).toBe("skipped");
      const message = s.steps.find((x) => x.step === "openapi")?.message;
      expect(message).toMatch(mode === "big" ? /exceeds the 10000-byte limit/ : /timed out after 1000 ms/);
      expect(s.deployment.openapi_spec).toBeNull();
    }
  });

  it("fails with start_failed (and the exit code) when an instance fails, and stops the topology", async () => {
    const { db, seed } = stack;
    const { projectId, environments } = await createProject(db, seed.workspaceId, "crashy");
    const id = await insertDeployment(db, { workspaceId: seed.workspaceId, projectId, environmentId: environments.production });
    await submitDeploy(stack.rs, id);
    const [running] = await playAgent(db, id, ["local"], { status: "failed", exitCode: 137, failureReason: "OOMKilled" });
    const result = await attachDeploy(stack.rs, id);
    expect(result).toMatchObject({ status: "failed", failedStep: "readiness", reason: "start_failed" });
    expect(result.errorMessage).toContain("exit code 137");
    const s = await readDeployState(db, id);
    expect(s.deployment).toMatchObject({ status: "failed", failed_step: "readiness", failure_reason: "start_failed" });
    expect(s.deployment.error_message).toMatch(/^start_failed: instance .* failed with exit code 137: OOMKilled$/);
    expect(s.stepStatus.readiness).toBe("failed");
    expect(s.stepStatus.cutover).toBeUndefined();
    // Stopped with a new, higher version, so the agent sees the change and tears the instances down.
    expect(s.topology).toHaveLength(1);
    expect(s.topology[0]!.desired_status).toBe("stopped");
    expect(Number(s.topology[0]!.version)).toBeGreaterThan(Number(running!.version));
    expect(s.routes).toEqual([]);
    expect(await readProject(db, projectId)).toEqual({ live: null, pinned: false });
  });

  it("recognises image pull failures", async () => {
    const { db, seed } = stack;
    const { projectId, environments } = await createProject(db, seed.workspaceId, "pully");
    const id = await insertDeployment(db, {
      workspaceId: seed.workspaceId,
      projectId,
      environmentId: environments.preview,
      image: "registry.example/missing:1",
    });
    await submitDeploy(stack.rs, id);
    await playAgent(db, id, ["local"], { status: "failed", failureReason: "ErrImagePull: manifest unknown" });
    const result = await attachDeploy(stack.rs, id);
    expect(result).toMatchObject({ status: "failed", failedStep: "readiness", reason: "image_pull_failed" });
  });

  it("fails with readiness_timeout when no agent reports in time", async () => {
    const { db, seed } = stack;
    const { projectId, environments } = await createProject(db, seed.workspaceId, "silent");
    const id = await insertDeployment(db, { workspaceId: seed.workspaceId, projectId, environmentId: environments.preview, replicas: 2 });
    await submitDeploy(stack.rs, id);
    // One of two replicas running is not ready.
    await playAgent(db, id, ["local"], { status: "pending" });
    await db.updateTable("instances").set({ status: "running" }).where("deployment_id", "=", id).where("k8s_name", "like", "%-0").execute();
    // The readiness step shows progress while it waits.
    await waitFor(
      "readiness progress",
      async () =>
        (await readDeployState(db, id)).steps.find((x) => x.step === "readiness")?.message === "waiting for instances: running: local 1/2",
    );
    const result = await attachDeploy(stack.rs, id);
    expect(result).toMatchObject({ status: "failed", failedStep: "readiness", reason: "readiness_timeout" });
    expect(result.errorMessage).toContain("local 1/2");
    const s = await readDeployState(db, id);
    expect(s.deployment.failure_reason).toBe("readiness_timeout");
    expect(s.topology[0]!.desired_status).toBe("stopped");
  });

  it("cancels at the next step boundary: topology stopped, status cancelled, no routes", async () => {
    const { db, seed } = stack;
    const { projectId, environments } = await createProject(db, seed.workspaceId, "cancelme");
    const id = await insertDeployment(db, { workspaceId: seed.workspaceId, projectId, environmentId: environments.production });
    await submitDeploy(stack.rs, id);
    await waitFor("readiness wait", async () => (await readDeployState(db, id)).stepStatus.readiness === "running");
    const during = await deployClient(stack.rs, id).cancel({ reason: "operator request" });
    expect(during.deploymentId).toBe(id);
    // A second cancel is harmless.
    await deployClient(stack.rs, id).cancel({});
    const result = await attachDeploy(stack.rs, id);
    expect(result).toEqual({ deploymentId: id, status: "cancelled", errorMessage: "cancelled: operator request" });
    const s = await readDeployState(db, id);
    expect(s.deployment.status).toBe("cancelled");
    expect(s.stepStatus.readiness).toBe("skipped");
    expect(s.topology[0]!.desired_status).toBe("stopped");
    expect(s.routes).toEqual([]);
    expect(await readProject(db, projectId)).toEqual({ live: null, pinned: false });
  });

  it("fails a build-context deploy with the build's structured reason and step", async () => {
    const { db, seed } = stack;
    const { projectId, environments } = await createProject(db, seed.workspaceId, "ctx");
    const id = await insertDeployment(db, {
      workspaceId: seed.workspaceId,
      projectId,
      environmentId: environments.preview,
      buildContextPath: `${projectId}/build_x.tar.gz`,
    });
    await submitDeploy(stack.rs, id);
    const result = await attachDeploy(stack.rs, id);
    expect(result.status).toBe("failed");
    expect(result.reason).toMatch(/^build_/);
    expect(result.failedStep).toMatch(/^build/);
    const s = await readDeployState(db, id);
    expect(s.deployment.status).toBe("failed");
    expect(s.deployment.error_message).toMatch(/^build_/);
    expect(s.topology).toEqual([]);
  });

  it("reports a missing deployment as failed and rejects a request whose id differs from the key", async () => {
    const missing = "d_doesnotexist";
    await submitDeploy(stack.rs, missing);
    expect(await attachDeploy(stack.rs, missing)).toMatchObject({ status: "failed", reason: "invalid_deployment", failedStep: "metadata" });
    const notFound = await deployClient(stack.rs, missing)
      .status()
      .then(
        () => undefined,
        (e: unknown) => e as clients.HttpCallError,
      );
    expect(notFound?.status).toBe(404);

    const { db, seed } = stack;
    const { projectId, environments } = await createProject(db, seed.workspaceId, "mismatch");
    const id = await insertDeployment(db, { workspaceId: seed.workspaceId, projectId, environmentId: environments.preview });
    await deployClient(stack.rs, id).workflowSubmit({ deploymentId: "d_other" });
    const err = await attachDeploy(stack.rs, id).then(
      () => undefined,
      (e: unknown) => e as clients.HttpCallError,
    );
    expect(err?.status).toBe(400);
    expect(err?.message).toMatch(/invalid_argument/);
    expect((await readDeployState(db, id)).topology).toEqual([]);
  });
});
