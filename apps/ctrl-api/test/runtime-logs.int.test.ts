/**
 * Runtime logs through real Connect and MariaDB: an agent pushes its instances' lines
 * (ClusterService.PushInstanceLogs) and a person reads them with the root key
 * (DeploymentService.GetRuntimeLogs). Guarantees: a retried push stores nothing twice; an agent may
 * push only deployments with desired state in its own region (another region's agent, a root key and
 * no token are refused, nothing stored); reads follow the deployment access rules; bad input is
 * `invalid_argument`; an unknown instance is `not_found` naming the deployment's instances.
 */
import { Code } from "@connectrpc/connect";
import { createRootKey, insertTopologyRow, newId } from "@ctrl/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, clients, createWorkspace, failure } from "./fake-agent.js";
import { startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
let ws: Awaited<ReturnType<typeof createWorkspace>>;
let other: Awaited<ReturnType<typeof createWorkspace>>;
let deploymentId: string;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ws = await createWorkspace(stack.deps.db);
  other = await createWorkspace(stack.deps.db);
  deploymentId = newId("d");
  const now = Date.now();
  await stack.deps.db
    .insertInto("deployments")
    .values({
      id: deploymentId,
      workspace_id: ws.workspaceId,
      project_id: ws.projectId,
      environment_id: ws.environments.preview,
      source_type: "build_context",
      build_context_path: `${ws.projectId}/build_x.tar.gz`,
      dockerfile_path: null,
      image: null,
      build_id: null,
      git_commit_sha: "",
      git_branch: "main",
      git_commit_message: null,
      git_commit_author_handle: null,
      git_commit_author_avatar_url: null,
      git_commit_timestamp: null,
      command: null,
      status: "building",
      error_message: null,
      failed_step: null,
      failure_reason: null,
      openapi_spec: null,
      cpu_millicores: 250,
      memory_mib: 256,
      replicas: 1,
      port: 8080,
      health_check_path: "/health",
      created_at: now,
      updated_at: now,
    })
    .execute();
  await insertTopologyRow(stack.deps.db, {
    id: newId("top"),
    workspace_id: ws.workspaceId,
    deployment_id: deploymentId,
    region: "local",
    desired_replicas: 1,
    desired_status: "running",
    version: 1,
    created_at: now,
    updated_at: now,
  });
}, 90_000);
afterAll(async () => stack?.close());

const api = () => clients(stack).deployments;
const cluster = () => clients(stack).cluster;
const line = (instance: string, position: number, text: string) => ({
  k8sName: deploymentId,
  instance,
  stream: "s1",
  position: BigInt(position),
  line: text,
  observedAt: 1_000n + BigInt(position),
});

describe("runtime logs", () => {
  it("stores pushed lines once and reads them back with the root key", async () => {
    const agent = await stack.agentToken("local");
    const pushed = await cluster().pushInstanceLogs({ lines: [line("i-0", 0, "hello"), line("i-0", 6, "world")] }, bearer(agent, "local"));
    expect(pushed.stored).toBe(2);
    const again = await cluster().pushInstanceLogs({ lines: [line("i-0", 6, "world"), line("i-1", 0, "other")] }, bearer(agent));
    expect(again.stored).toBe(1);

    const page = await api().getRuntimeLogs({ deploymentId }, bearer(ws.rootKey));
    expect(page.lines.map((l) => [l.instance, l.line, l.region])).toEqual([
      ["i-0", "hello", "local"],
      ["i-0", "world", "local"],
      ["i-1", "other", "local"],
    ]);
    expect(page.instances).toEqual(["i-0", "i-1"]);
    const rest = await api().getRuntimeLogs({ deploymentId, afterSeq: page.lines[0]!.seq, instance: "i-0" }, bearer(ws.rootKey));
    expect(rest.lines.map((l) => l.line)).toEqual(["world"]);
    const tail = await api().getRuntimeLogs({ deploymentId, tail: 1 }, bearer(ws.rootKey));
    expect(tail.lines.map((l) => l.line)).toEqual(["other"]);
    expect(tail.nextSeq).toBe(page.lines[2]!.seq);
    const since = await api().getRuntimeLogs({ deploymentId, since: 1_006n }, bearer(ws.rootKey));
    expect(since.lines.map((l) => l.line)).toEqual(["world"]);
  });

  it("refuses pushes of deployments not desired in the agent's region, and callers that are not agents", async () => {
    const elsewhere = await stack.agentToken("eu-west");
    const refused = await failure(cluster().pushInstanceLogs({ lines: [line("i-9", 0, "sneaky")] }, bearer(elsewhere)));
    expect(refused.code).toBe(Code.NotFound);
    expect(refused.rawMessage).toMatch(/no desired state in region eu-west/);
    expect((await failure(cluster().pushInstanceLogs({ lines: [line("i-9", 0, "x")] }, bearer(ws.rootKey)))).code).toBe(
      Code.PermissionDenied,
    );
    expect((await failure(cluster().pushInstanceLogs({ lines: [line("i-9", 0, "x")] }))).code).toBe(Code.Unauthenticated);
    const agent = await stack.agentToken("local");
    expect((await failure(cluster().pushInstanceLogs({ lines: [{ ...line("i-9", 0, "x"), stream: "" }] }, bearer(agent)))).code).toBe(
      Code.InvalidArgument,
    );
    const page = await api().getRuntimeLogs({ deploymentId }, bearer(ws.rootKey));
    expect(page.lines.map((l) => l.line)).not.toContain("sneaky");
    expect(page.instances).not.toContain("i-9");
  });

  it("follows the deployment access rules and names the valid instances", async () => {
    expect((await failure(api().getRuntimeLogs({ deploymentId }))).code).toBe(Code.Unauthenticated);
    expect((await failure(api().getRuntimeLogs({ deploymentId }, bearer(other.rootKey)))).code).toBe(Code.NotFound);
    const { key: readless } = await createRootKey(stack.deps.db, {
      workspaceId: ws.workspaceId,
      name: "no read",
      permissions: ["project.*.create_deployment"],
      now: Date.now(),
    });
    expect((await failure(api().getRuntimeLogs({ deploymentId }, bearer(readless)))).code).toBe(Code.PermissionDenied);
    expect((await failure(api().getRuntimeLogs({ deploymentId, afterSeq: -1n }, bearer(ws.rootKey)))).code).toBe(Code.InvalidArgument);
    const unknown = await failure(api().getRuntimeLogs({ deploymentId, instance: "nope" }, bearer(ws.rootKey)));
    expect(unknown.code).toBe(Code.NotFound);
    expect(unknown.rawMessage).toContain("its instances are i-0, i-1");
  });
});
