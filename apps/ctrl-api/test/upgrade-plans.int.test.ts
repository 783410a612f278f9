/**
 * UpgradePlanService and HaltService through a real transport, MariaDB, restate-server and the
 * in-process worker. Guarantees (docs/halt-contract.md): plans are append-only and versioned (the
 * latest wins, a delete is a tombstone, history kept); every bad request has its exact code and
 * writes nothing; a root key needs `manage_upgrade_plans` / `supervise_deployment` and another
 * workspace's project is `not_found`; GetDeployment (Connect and /v2) carries the halt.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createRootKey, newId, upgradePlanHistory } from "@ctrl/db";
import { DeploymentService, HaltService, UpgradePlanService } from "@ctrl/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackTransport, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
}, 60_000);
afterAll(async () => stack?.close());

const plans = (token?: string) => createClient(UpgradePlanService, stackTransport(stack, token));
const halts = (token?: string) => createClient(HaltService, stackTransport(stack, token));

async function code(call: Promise<unknown>): Promise<Code> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  if (!err) throw new Error("expected the call to fail");
  return err.code;
}

async function rootKey(permissions: string[]) {
  return (await createRootKey(stack.database.db, { workspaceId: stack.seed.workspaceId, name: "t", permissions, now: Date.now() })).key;
}

describe("UpgradePlanService", () => {
  it("appends versions: the latest wins, a delete is a tombstone, the history stays", async () => {
    const projectId = stack.seed.projectId;
    const first = await plans().setUpgradePlan({ projectId, name: "v2", image: "reg/app:2" });
    expect(first.plan).toMatchObject({ name: "v2", image: "reg/app:2", version: 1, minHeight: 0n, createdBy: "operator" });
    const second = await plans().setUpgradePlan({ projectId, name: "v2", image: "reg/app:2.1", minHeight: 1200n });
    expect(second.plan).toMatchObject({ version: 2, image: "reg/app:2.1", minHeight: 1200n });
    await plans().setUpgradePlan({ projectId, environmentSlug: "preview", name: "v2", image: "reg/app:preview" });
    expect((await plans().listUpgradePlans({ projectId })).plans.map((p) => [p.name, p.image, p.version])).toEqual([
      ["v2", "reg/app:2.1", 2],
    ]);

    expect((await plans().deleteUpgradePlan({ projectId, name: "v2" })).version).toBe(3);
    expect((await plans().listUpgradePlans({ projectId })).plans).toEqual([]);
    expect(await code(plans().deleteUpgradePlan({ projectId, name: "v2" }))).toBe(Code.NotFound);
    // Other environments keep theirs; the production history is every version, the tombstone last.
    expect((await plans().listUpgradePlans({ projectId, environmentSlug: "preview" })).plans).toHaveLength(1);
    const history = await upgradePlanHistory(stack.database.db, projectId, stack.seed.environments.production, "v2");
    expect(history.map((r) => [Number(r.version), r.image, Boolean(Number(r.deleted))])).toEqual([
      [1, "reg/app:2", false],
      [2, "reg/app:2.1", false],
      [3, null, true],
    ]);
  });

  it("refuses bad requests with their exact code and writes nothing", async () => {
    const projectId = stack.seed.projectId;
    const before = await stack.database.db.selectFrom("upgrade_plans").select("id").execute();
    expect(await code(plans().setUpgradePlan({ projectId, name: "bad name", image: "x" }))).toBe(Code.InvalidArgument);
    expect(await code(plans().setUpgradePlan({ projectId, name: "v3", image: "" }))).toBe(Code.InvalidArgument);
    expect(await code(plans().setUpgradePlan({ projectId, name: "v3", image: "has space" }))).toBe(Code.InvalidArgument);
    expect(await code(plans().setUpgradePlan({ projectId, name: "v3", image: "x", minHeight: -1n }))).toBe(Code.InvalidArgument);
    expect(await code(plans().setUpgradePlan({ projectId: "proj_missing", name: "v3", image: "x" }))).toBe(Code.NotFound);
    expect(await code(plans().setUpgradePlan({ projectId, environmentSlug: "staging", name: "v3", image: "x" }))).toBe(Code.NotFound);
    expect(await stack.database.db.selectFrom("upgrade_plans").select("id").execute()).toEqual(before);
  });

  it("a root key needs manage_upgrade_plans on the project", async () => {
    const projectId = stack.seed.projectId;
    const reader = await rootKey([`project.${projectId}.read_deployment`]);
    expect(await code(plans(reader).listUpgradePlans({ projectId }))).toBe(Code.PermissionDenied);
    const manager = await rootKey([`project.${projectId}.manage_upgrade_plans`]);
    const set = await plans(manager).setUpgradePlan({ projectId, name: "keyed", image: "reg/app:k" });
    expect(set.plan?.createdBy).toMatch(/^root_key:key_/);
    // Another workspace's project is the same not_found as a missing one.
    const now = Date.now();
    const otherWs = newId("ws");
    const otherProject = newId("proj");
    await stack.database.db
      .insertInto("workspaces")
      .values({ id: otherWs, name: "other", slug: `other-${now}`, created_at: now, updated_at: now })
      .execute();
    await stack.database.db
      .insertInto("projects")
      .values({ id: otherProject, workspace_id: otherWs, name: "o", slug: "o", live_deployment_id: null, created_at: now, updated_at: now })
      .execute();
    expect(await code(plans(manager).listUpgradePlans({ projectId: otherProject }))).toBe(Code.NotFound);
  });
});

describe("HaltService and GetDeployment.halt", () => {
  it("ack of a deployment that never halted is not_found; GetDeployment (Connect and /v2) carries a recorded halt", async () => {
    const { db } = stack.database;
    const now = Date.now();
    const id = newId("d");
    await db
      .insertInto("deployments")
      .values({
        id,
        workspace_id: stack.seed.workspaceId,
        project_id: stack.seed.projectId,
        environment_id: stack.seed.environments.production,
        source_type: "image",
        build_context_path: null,
        dockerfile_path: null,
        image: "reg/app:1",
        build_id: null,
        git_commit_sha: "",
        git_branch: "main",
        command: null,
        status: "ready",
        error_message: null,
        failed_step: null,
        openapi_spec: null,
        cpu_millicores: 100,
        memory_mib: 128,
        replicas: 1,
        port: 8080,
        health_check_path: "/health",
        created_at: now,
        updated_at: now,
      })
      .execute();
    expect(await code(halts().acknowledgeHalt({ deploymentId: id }))).toBe(Code.NotFound);
    expect(
      (await createClient(DeploymentService, stackTransport(stack)).getDeployment({ deploymentId: id })).deployment?.halt,
    ).toBeUndefined();

    await db
      .insertInto("deployment_halts")
      .values({
        deployment_id: id,
        reason: "downgrade_detected",
        workspace_id: stack.seed.workspaceId,
        project_id: stack.seed.projectId,
        environment_id: stack.seed.environments.production,
        instance: `${id}-local-0`,
        exit_code: 72,
        plan_name: null,
        height: 900,
        info: "state at 1000",
        action: "wait_for_human",
        state: "waiting_for_human",
        condition: null,
        replaced_by_deployment_id: null,
        message: "a person decides",
        paged_at: now,
        resolved_at: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const { deployment } = await createClient(DeploymentService, stackTransport(stack)).getDeployment({ deploymentId: id });
    expect(deployment?.halt).toMatchObject({
      reason: "downgrade_detected",
      exitCode: 72,
      height: 900n,
      action: "wait_for_human",
      state: "waiting_for_human",
    });
    const res = await fetch(`${stack.apiUrl}/v2/deploy.getDeployment`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.seed.rootKey}` },
      body: JSON.stringify({ deploymentId: id }),
    });
    expect(((await res.json()) as { data: { halt: unknown } }).data.halt).toEqual({
      reason: "downgrade_detected",
      height: 900,
      info: "state at 1000",
      exitCode: 72,
      action: "wait_for_human",
      state: "waiting_for_human",
      message: "a person decides",
    });

    const reader = await rootKey([`project.${stack.seed.projectId}.read_deployment`]);
    expect(await code(halts(reader).acknowledgeHalt({ deploymentId: id }))).toBe(Code.PermissionDenied);
    const acked = await halts().acknowledgeHalt({ deploymentId: id });
    expect(acked.halt).toMatchObject({ state: "acknowledged" });
  });
});
