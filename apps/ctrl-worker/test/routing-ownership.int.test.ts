/**
 * Handlers check ownership themselves (issue 10): even a caller inside Restate — or one that got
 * past the ingress — cannot make RoutingService or DeploymentService act on a deployment of another
 * project than the object key. Real restate-server, MariaDB and the in-process worker endpoint;
 * RoutingService is ingress-private, so this file opens it to call it the way a forged internal
 * call would. Every refusal is terminal, carries its code, and changes no route or pointer.
 */
import "../src/polyfill.js";
import { exposeServicesForTest } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RoutingResult } from "../src/services/routing-service/api.js";
import { createProject, insertDeployment, startDeployStack, type DeployStack } from "./deploy-harness.js";

let stack: DeployStack;
let victim: Awaited<ReturnType<typeof createProject>>;
let attacker: Awaited<ReturnType<typeof createProject>>;
let victimDeployment: string;
let attackerDeployment: string;

beforeAll(async () => {
  stack = await startDeployStack({ regions: ["local"], apexDomain: "ctrl.test" });
  await exposeServicesForTest(stack.restate.adminUrl, ["RoutingService"]);
  const ws = stack.seed.workspaceId;
  [victim, attacker] = await Promise.all([createProject(stack.db, ws, "victim"), createProject(stack.db, ws, "attacker")]);
  victimDeployment = await insertDeployment(stack.db, {
    workspaceId: ws,
    projectId: victim.projectId,
    environmentId: victim.environments.production,
    status: "ready",
  });
  attackerDeployment = await insertDeployment(stack.db, {
    workspaceId: ws,
    projectId: attacker.projectId,
    environmentId: attacker.environments.production,
    status: "ready",
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

/** POSTs to the ingress; the body of a failure is `{code, message}`. */
async function call(
  path: string,
  body: unknown,
): Promise<{ status: number; body: { code?: number; message?: string } & Partial<RoutingResult> }> {
  const res = await fetch(`${stack.restate.ingressUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { code?: number; message?: string } & Partial<RoutingResult> };
}

/** Routes and project pointers, to prove a refused call changed nothing. */
async function snapshot() {
  const [routes, projects] = await Promise.all([
    stack.db
      .selectFrom("frontline_routes")
      .select(["fully_qualified_domain_name", "deployment_id", "project_id"])
      .orderBy("fully_qualified_domain_name")
      .execute(),
    stack.db.selectFrom("projects").select(["id", "live_deployment_id", "is_rolled_back"]).orderBy("id").execute(),
  ]);
  return { routes, projects };
}

describe("RoutingService refuses deployments of another project than its key", () => {
  const assign = (projectId: string, deploymentId: string, overrides: Record<string, unknown> = {}) =>
    call(`/RoutingService/${projectId}/assignRoutes`, {
      workspaceId: stack.seed.workspaceId,
      environmentId: attacker.environments.production,
      deploymentId,
      routes: [{ fqdn: "victim-production.ctrl.test", sticky: "live" }],
      setLive: true,
      ...overrides,
    });

  it("assignRoutes: the attacker's deployment keyed by the victim's project is permission_denied", async () => {
    const before = await snapshot();
    const res = await assign(victim.projectId, attackerDeployment);
    expect(res.status).toBe(403);
    expect(res.body.message).toBe(
      `permission_denied: deploymentId: deployment ${attackerDeployment} does not belong to project ${victim.projectId} (the object key)`,
    );
    expect(await snapshot()).toEqual(before);
  });

  it("assignRoutes: an unknown deployment is not_found, and workspace/environment must be the deployment's own", async () => {
    const before = await snapshot();
    const missing = await assign(victim.projectId, "d_missing");
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/^not_found: deploymentId: deployment d_missing not found/);
    // The victim's own deployment, but routes written under the attacker's environment: refused.
    const borrowed = await assign(victim.projectId, victimDeployment, { environmentId: attacker.environments.production });
    expect(borrowed.status).toBe(400);
    expect(borrowed.body.message).toMatch(/^invalid_argument: workspaceId and environmentId must be those of deployment/);
    expect(await snapshot()).toEqual(before);
  });

  it("switchLive: a target of another project is permission_denied and the live pointer stays", async () => {
    const before = await snapshot();
    const res = await call(`/RoutingService/${victim.projectId}/switchLive`, {
      targetDeploymentId: attackerDeployment,
      routeIds: [],
      isRolledBack: false,
    });
    expect(res.status).toBe(403);
    expect(res.body.message).toMatch(/^permission_denied: targetDeploymentId: deployment .* does not belong to project/);
    expect(await snapshot()).toEqual(before);
  });

  it("still does its job for the keyed project's own deployment (the check is not a blanket refusal)", async () => {
    const res = await assign(attacker.projectId, attackerDeployment);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ hostnames: ["victim-production.ctrl.test"], liveDeploymentId: attackerDeployment });
    // The first project to hold a hostname keeps it: the victim's project cannot take it back by
    // naming its own deployment either (upsertRoutes leaves other projects' hostnames alone).
    const taken = await call(`/RoutingService/${victim.projectId}/assignRoutes`, {
      workspaceId: stack.seed.workspaceId,
      environmentId: victim.environments.production,
      deploymentId: victimDeployment,
      routes: [{ fqdn: "victim-production.ctrl.test", sticky: "live" }],
      setLive: false,
    });
    expect(taken.status).toBe(200);
    expect(taken.body.hostnames).toEqual([]);
  });
});

describe("DeploymentService (public) refuses deployments of another project than its key", () => {
  it("cutover of another project's deployment is invalid_argument and changes nothing", async () => {
    const before = await snapshot();
    const res = await call(`/DeploymentService/${victim.projectId}/cutover`, { deploymentId: attackerDeployment });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^invalid_argument: deployment .* does not belong to project/);
    expect(await snapshot()).toEqual(before);
  });

  it("rollback and promote to another project's deployment are invalid_argument", async () => {
    const before = await snapshot();
    const promote = await call(`/DeploymentService/${victim.projectId}/promote`, { targetDeploymentId: attackerDeployment });
    expect(promote.status).toBe(400);
    expect(promote.body.message).toMatch(/^invalid_argument: target deployment .* does not belong to project/);
    const rollback = await call(`/DeploymentService/${victim.projectId}/rollback`, {
      sourceDeploymentId: attackerDeployment,
      targetDeploymentId: victimDeployment,
    });
    expect(rollback.status).toBe(400);
    expect(rollback.body.message).toMatch(/^invalid_argument: source deployment .* does not belong to project/);
    expect(await snapshot()).toEqual(before);
  });
});
