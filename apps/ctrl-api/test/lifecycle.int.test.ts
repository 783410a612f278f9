/**
 * DeploymentLifecycleService (issue 15) against ctrl-api, MariaDB, restate-server and the worker, with
 * a fake agent that reports instances running (or stays silent to hold a deploy in its readiness
 * wait).
 *
 * Guarantees: a cancelled deploy stops at its next step and ends `cancelled` with its topology
 * stopped and its steps closed (rows consistent); cancelling a finished deploy is
 * `failed_precondition`; Redeploy creates a new deployment of the environment's current one (same
 * image) that runs the variables as they are now, while the old one keeps its snapshot; missing,
 * foreign and unauthorized targets get their precise codes. Stop puts a superseded deployment in
 * standby in every region (the agent is told to delete its instances) and Start runs it again; a
 * deployment that still serves its environment, or one that is not ready, cannot be stopped. Delete
 * archives a finished deployment that no longer serves: instances stopped, its own routes removed.
 */
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createRootKey } from "@ctrl/db";
import { DeploymentLifecycleService, DeploymentStatus, VariableService } from "@ctrl/proto";
import { parseRegionKeys, Vault, vaultContext } from "@ctrl/vault";
import { waitFor } from "@ctrl/testing";
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploymentEnvBytes } from "../src/services/cluster-service/deployment-env.js";
import {
  bearer,
  clients,
  createWorkspace,
  failure,
  FakeAgent,
  runningOnSight,
  startDeployStack,
  type AgentBehaviour,
} from "./fake-agent.js";
import type { TestStack } from "./harness.js";

const vault = Vault.fromSpec(`k1:${randomBytes(32).toString("base64")}`);
const agentSpec = `k1:${randomBytes(32).toString("base64")}`;
const regionVaults = parseRegionKeys(`local=${agentSpec}`);
let stack: TestStack;
let agent: FakeAgent;
let ws: Awaited<ReturnType<typeof createWorkspace>>;
let other: Awaited<ReturnType<typeof createWorkspace>>;
/** Images the agent leaves unanswered (their deploys are held in the readiness wait from the start). */
const held = (image: string) => image.includes("/held:");
const answer: AgentBehaviour = (apply) => (held(apply.image) ? undefined : runningOnSight(apply));

beforeAll(async () => {
  stack = await startDeployStack({ regions: ["local"], readinessTimeoutMs: 60_000, readinessPollMs: 50, openapiTimeoutMs: 200 });
  stack.deps.vault = vault;
  stack.deps.regionVaults = regionVaults;
  agent = new FakeAgent(stack, "local", answer).start();
  ws = await createWorkspace(stack.deps.db);
  other = await createWorkspace(stack.deps.db);
}, 90_000);
afterAll(async () => {
  await agent?.stop();
  await stack?.close();
});

const transport = () => createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" });
const lifecycle = () => createClient(DeploymentLifecycleService, transport());
const variables = () => createClient(VariableService, transport());
const api = () => clients(stack).deployments;
const production = () => ({ projectId: ws.projectId, environmentSlug: "production" });

async function create(image: string): Promise<string> {
  const { deploymentId } = await api().createDeployment(
    { ...production(), source: { case: "dockerImage", value: image } },
    bearer(ws.rootKey),
  );
  return deploymentId;
}

async function settled(deploymentId: string) {
  return waitFor(
    `deployment ${deploymentId} to settle`,
    async () => {
      const { deployment } = await api().getDeployment({ deploymentId }, bearer(ws.rootKey));
      return deployment && [DeploymentStatus.READY, DeploymentStatus.FAILED, DeploymentStatus.CANCELLED].includes(deployment.status)
        ? deployment
        : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
}

async function agentEnv(deploymentId: string): Promise<Record<string, string>> {
  const bytes = await deploymentEnvBytes(
    { db: stack.deps.db, vault, regionVaults, logger: pino({ level: "silent" }) },
    ws.environments.production,
    deploymentId,
    "local",
  );
  if (bytes.length === 0) return {};
  return JSON.parse(Vault.fromSpec(agentSpec).decryptString(Buffer.from(bytes).toString("utf8"), vaultContext.deploymentEnv(deploymentId)));
}

describe("CancelDeployment", () => {
  it("a deploy held in its readiness wait stops there: cancelled, topology stopped, no step left running", async () => {
    const heldId = await create("ghcr.io/acme/held:1");
    await waitFor("the held deploy to wait for readiness", async () => {
      const step = await stack.deps.db
        .selectFrom("deployment_steps")
        .select("status")
        .where("deployment_id", "=", heldId)
        .where("step", "=", "readiness")
        .executeTakeFirst();
      return step?.status === "running";
    });
    const res = await lifecycle().cancelDeployment({ deploymentId: heldId, reason: "changed my mind" }, bearer(ws.rootKey));
    expect(res).toMatchObject({ deploymentId: heldId, status: "deploying" });
    const done = await settled(heldId);
    expect(done.status).toBe(DeploymentStatus.CANCELLED);
    const topology = await stack.deps.db
      .selectFrom("deployment_topology")
      .select("desired_status")
      .where("deployment_id", "=", heldId)
      .execute();
    expect(topology.length).toBeGreaterThan(0);
    expect(topology.every((t) => t.desired_status !== "running")).toBe(true);
    const running = await stack.deps.db
      .selectFrom("deployment_steps")
      .select("step")
      .where("deployment_id", "=", heldId)
      .where("status", "=", "running")
      .execute();
    expect(running).toEqual([]);
    const routes = await stack.deps.db.selectFrom("frontline_routes").select("id").where("deployment_id", "=", heldId).execute();
    expect(routes).toEqual([]);
    // Cancelling it again, or a finished deploy, is failed_precondition naming the status.
    const again = await failure(lifecycle().cancelDeployment({ deploymentId: heldId }, bearer(ws.rootKey)));
    expect(again.code).toBe(Code.FailedPrecondition);
    expect(again.rawMessage).toBe(`deployment ${heldId} is already cancelled: only a running deploy can be cancelled`);
  });

  it("missing, foreign, empty and unauthorized are not_found, not_found, invalid_argument, permission_denied", async () => {
    const heldId = await create("ghcr.io/acme/held:2");
    expect((await failure(lifecycle().cancelDeployment({ deploymentId: "d_missing" }, bearer(ws.rootKey)))).code).toBe(Code.NotFound);
    const foreign = await failure(lifecycle().cancelDeployment({ deploymentId: heldId }, bearer(other.rootKey)));
    expect(foreign.code).toBe(Code.NotFound);
    expect(foreign.rawMessage).toBe(`deployment ${heldId} not found`);
    expect((await failure(lifecycle().cancelDeployment({ deploymentId: " " }, bearer(ws.rootKey)))).code).toBe(Code.InvalidArgument);
    const reader = (
      await createRootKey(stack.deps.db, {
        workspaceId: ws.workspaceId,
        name: "r",
        permissions: ["project.*.read_deployment"],
        now: Date.now(),
      })
    ).key;
    expect((await failure(lifecycle().cancelDeployment({ deploymentId: heldId }, bearer(reader)))).code).toBe(Code.PermissionDenied);
    await lifecycle().cancelDeployment({ deploymentId: heldId }, bearer(ws.rootKey));
    expect((await settled(heldId)).status).toBe(DeploymentStatus.CANCELLED);
  });
});

describe("Redeploy", () => {
  it("without a deployment yet it is failed_precondition", async () => {
    const fresh = await createWorkspace(stack.deps.db);
    const err = await failure(lifecycle().redeploy({ projectId: fresh.projectId, environmentSlug: "production" }, bearer(fresh.rootKey)));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain("has no deployment to redeploy yet");
  });

  it("redeploys the environment's current deployment with the variables as they are now; the old one keeps its own", async () => {
    await variables().setVariables({ ...production(), variables: [{ key: "GREETING", value: "v1" }] }, bearer(ws.rootKey));
    const first = await create("ghcr.io/acme/api:7");
    expect((await settled(first)).status).toBe(DeploymentStatus.READY);
    const set = await variables().setVariables({ ...production(), variables: [{ key: "GREETING", value: "v2" }] }, bearer(ws.rootKey));
    expect(set.liveDeploymentId).toBe(first);

    const res = await lifecycle().redeploy(production(), bearer(ws.rootKey));
    expect(res.sourceDeploymentId).toBe(first);
    const second = await settled(res.deploymentId);
    expect(second.status).toBe(DeploymentStatus.READY);
    const row = await stack.deps.db
      .selectFrom("deployments")
      .select(["image", "git_branch"])
      .where("id", "=", res.deploymentId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ image: "ghcr.io/acme/api:7", git_branch: "main" });
    expect(await agentEnv(res.deploymentId)).toEqual({ GREETING: "v2" });
    expect(await agentEnv(first)).toEqual({ GREETING: "v1" });
    // An explicit source works too; a foreign one is not_found.
    expect(
      (await lifecycle().redeploy({ deploymentId: first, projectId: "", environmentSlug: "" }, bearer(ws.rootKey))).sourceDeploymentId,
    ).toBe(first);
    expect(
      (await failure(lifecycle().redeploy({ deploymentId: first, projectId: "", environmentSlug: "" }, bearer(other.rootKey)))).code,
    ).toBe(Code.NotFound);
  });
});

describe("StopDeployment / StartDeployment", () => {
  const desired = async (deploymentId: string) =>
    (
      await stack.deps.db.selectFrom("deployment_topology").select("desired_status").where("deployment_id", "=", deploymentId).execute()
    ).map((t) => t.desired_status);

  it("a superseded deployment goes to standby and back; the serving one and a non-ready one are refused", async () => {
    const old = await create("ghcr.io/acme/api:8");
    expect((await settled(old)).status).toBe(DeploymentStatus.READY);
    const current = await create("ghcr.io/acme/api:9");
    expect((await settled(current)).status).toBe(DeploymentStatus.READY);

    const stopped = await lifecycle().stopDeployment({ deploymentId: old }, bearer(ws.rootKey));
    expect(stopped).toMatchObject({ deploymentId: old, desiredState: "standby", regions: ["local"], changedRegions: ["local"] });
    expect(await desired(old)).toEqual(["stopped"]);
    await waitFor("the agent to be told to delete the old deployment", () =>
      agent.received.some((m) => m.state.case === "delete" && m.state.value.k8sName === old),
    );
    // Idempotent: stopping again changes nothing.
    expect((await lifecycle().stopDeployment({ deploymentId: old }, bearer(ws.rootKey))).changedRegions).toEqual([]);

    const started = await lifecycle().startDeployment({ deploymentId: old }, bearer(ws.rootKey));
    expect(started).toMatchObject({ desiredState: "running", changedRegions: ["local"] });
    expect(await desired(old)).toEqual(["running"]);

    const serving = await failure(lifecycle().stopDeployment({ deploymentId: current }, bearer(ws.rootKey)));
    expect(serving.code).toBe(Code.FailedPrecondition);
    expect(serving.rawMessage).toContain(`deployment ${current} serves `);
    expect(serving.rawMessage).toContain("roll back or promote another deployment before stopping it");
    expect(await desired(current)).toEqual(["running"]);

    const cancelled = await create("ghcr.io/acme/held:3");
    await lifecycle().cancelDeployment({ deploymentId: cancelled }, bearer(ws.rootKey));
    await settled(cancelled);
    const notReady = await failure(lifecycle().startDeployment({ deploymentId: cancelled }, bearer(ws.rootKey)));
    expect(notReady.code).toBe(Code.FailedPrecondition);
    expect(notReady.rawMessage).toContain(`deployment ${cancelled} is cancelled: only a ready deployment can be stopped or started`);

    expect((await failure(lifecycle().stopDeployment({ deploymentId: old }, bearer(other.rootKey)))).code).toBe(Code.NotFound);
    const reader = (
      await createRootKey(stack.deps.db, {
        workspaceId: ws.workspaceId,
        name: "r2",
        permissions: ["project.*.read_deployment"],
        now: Date.now(),
      })
    ).key;
    expect((await failure(lifecycle().stopDeployment({ deploymentId: old }, bearer(reader)))).code).toBe(Code.PermissionDenied);
  });
});

describe("/v2 lifecycle endpoints", () => {
  const post = async (endpoint: string, body: unknown, token = ws.rootKey) => {
    const res = await fetch(`${stack.apiUrl}/v2/${endpoint}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { data?: any; error?: any } };
  };

  it("cancel, redeploy, stop and start share the RPCs' rules and codes", async () => {
    const heldId = await create("ghcr.io/acme/held:4");
    const cancel = await post("deploy.cancelDeployment", { deploymentId: heldId, reason: "http" });
    expect(cancel.status).toBe(200);
    expect(cancel.body.data.deploymentId).toBe(heldId);
    expect((await settled(heldId)).status).toBe(DeploymentStatus.CANCELLED);
    expect((await post("deploy.cancelDeployment", { deploymentId: heldId })).status).toBe(412);

    const redeployed = await post("deploy.redeploy", production());
    expect(redeployed.status).toBe(201);
    const fresh = redeployed.body.data.deploymentId as string;
    expect((await settled(fresh)).status).toBe(DeploymentStatus.READY);
    const previous = redeployed.body.data.sourceDeploymentId as string;
    const stop = await post("deploy.stopDeployment", { deploymentId: previous });
    expect(stop.status).toBe(200);
    expect(stop.body.data).toEqual({ deploymentId: previous, desiredState: "standby", regions: ["local"], changedRegions: ["local"] });
    expect((await post("deploy.startDeployment", { deploymentId: previous })).body.data.desiredState).toBe("running");
    expect((await post("deploy.stopDeployment", { deploymentId: fresh })).status).toBe(412);
    expect((await post("deploy.stopDeployment", {})).status).toBe(400);
    expect((await post("deploy.stopDeployment", { deploymentId: fresh }, other.rootKey)).status).toBe(404);
  });
});

describe("DeleteDeployment", () => {
  it("archives a superseded deployment: instances stopped, its routes removed; the serving one and a running deploy are refused", async () => {
    const old = await create("ghcr.io/acme/api:10");
    expect((await settled(old)).status).toBe(DeploymentStatus.READY);
    const current = await create("ghcr.io/acme/api:11");
    expect((await settled(current)).status).toBe(DeploymentStatus.READY);
    const ownRoutes = await stack.deps.db
      .selectFrom("frontline_routes")
      .select("fully_qualified_domain_name")
      .where("deployment_id", "=", old)
      .execute();

    const res = await lifecycle().deleteDeployment({ deploymentId: old }, bearer(ws.rootKey));
    expect(res.deploymentId).toBe(old);
    expect(res.stoppedRegions).toEqual(["local"]);
    expect(res.removedHostnames).toEqual(ownRoutes.map((r) => r.fully_qualified_domain_name).sort());
    const row = await stack.deps.db
      .selectFrom("deployments")
      .select(["archived_at", "status"])
      .where("id", "=", old)
      .executeTakeFirstOrThrow();
    expect(row.archived_at).not.toBeNull();
    expect((await stack.deps.db.selectFrom("frontline_routes").select("id").where("deployment_id", "=", old).execute()).length).toBe(0);
    expect(
      (await stack.deps.db.selectFrom("deployment_topology").select("desired_status").where("deployment_id", "=", old).execute()).map(
        (t) => t.desired_status,
      ),
    ).toEqual(["stopped"]);
    // Idempotent; the serving deployment and a running deploy are refused; another workspace's is not_found.
    expect((await lifecycle().deleteDeployment({ deploymentId: old }, bearer(ws.rootKey))).stoppedRegions).toEqual([]);
    const serving = await failure(lifecycle().deleteDeployment({ deploymentId: current }, bearer(ws.rootKey)));
    expect(serving.code).toBe(Code.FailedPrecondition);
    expect(serving.rawMessage).toContain("roll back or promote another deployment before deleting it");
    const heldId = await create("ghcr.io/acme/held:5");
    const running = await failure(lifecycle().deleteDeployment({ deploymentId: heldId }, bearer(ws.rootKey)));
    expect(running.code).toBe(Code.FailedPrecondition);
    expect(running.rawMessage).toMatch(new RegExp(`deployment ${heldId} is (pending|deploying): cancel the deploy before deleting it`));
    await lifecycle().cancelDeployment({ deploymentId: heldId }, bearer(ws.rootKey));
    await settled(heldId);
    expect((await failure(lifecycle().deleteDeployment({ deploymentId: current }, bearer(other.rootKey)))).code).toBe(Code.NotFound);
    const http = await fetch(`${stack.apiUrl}/v2/deploy.deleteDeployment`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ws.rootKey}` },
      body: JSON.stringify({ deploymentId: heldId }),
    });
    expect(http.status).toBe(200);
  });
});
