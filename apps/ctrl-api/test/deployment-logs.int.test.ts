/**
 * DeploymentService.GetDeploymentLogs against real MariaDB and real Connect: pages of a deployment's
 * build log in order with a resumable cursor, the deployment's status alongside, and the usual
 * auth rules (no token, another workspace's deployment, missing permission, bad input).
 */
import { Code } from "@connectrpc/connect";
import { appendBuildLogs, createRootKey, newId } from "@ctrl/db";
import { DeploymentStatus } from "@ctrl/proto";
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
  await appendBuildLogs(
    stack.deps.db,
    deploymentId,
    "build_x",
    Array.from({ length: 7 }, (_, i) => ({
      step: i < 3 ? "build:install" : "build:compile",
      seq: i + 1,
      line: `line ${i + 1}`,
      createdAt: now + i,
    })),
  );
}, 90_000);
afterAll(async () => stack?.close());

const api = () => clients(stack).deployments;

describe("GetDeploymentLogs", () => {
  it("pages through the log in order and resumes from next_seq", async () => {
    const first = await api().getDeploymentLogs({ deploymentId, limit: 3 }, bearer(ws.rootKey));
    expect(first.lines.map((l) => [Number(l.seq), l.step, l.line])).toEqual([
      [1, "build:install", "line 1"],
      [2, "build:install", "line 2"],
      [3, "build:install", "line 3"],
    ]);
    expect(first.nextSeq).toBe(3n);
    expect(first.status).toBe(DeploymentStatus.BUILDING);
    const rest = await api().getDeploymentLogs({ deploymentId, afterSeq: first.nextSeq }, bearer(ws.rootKey));
    expect(rest.lines.map((l) => l.line)).toEqual(["line 4", "line 5", "line 6", "line 7"]);
    const none = await api().getDeploymentLogs({ deploymentId, afterSeq: rest.nextSeq }, bearer(stack.operatorToken));
    expect(none.lines).toEqual([]);
    expect(none.nextSeq).toBe(7n);
  });

  it("rejects a missing token, another workspace's key, a missing permission and bad input", async () => {
    expect((await failure(api().getDeploymentLogs({ deploymentId }))).code).toBe(Code.Unauthenticated);
    expect((await failure(api().getDeploymentLogs({ deploymentId }, bearer(other.rootKey)))).code).toBe(Code.NotFound);
    const { key: readless } = await createRootKey(stack.deps.db, {
      workspaceId: ws.workspaceId,
      name: "no read",
      permissions: ["project.*.create_deployment"],
      now: Date.now(),
    });
    expect((await failure(api().getDeploymentLogs({ deploymentId }, bearer(readless)))).code).toBe(Code.PermissionDenied);
    expect((await failure(api().getDeploymentLogs({ deploymentId: "" }, bearer(ws.rootKey)))).code).toBe(Code.InvalidArgument);
    expect((await failure(api().getDeploymentLogs({ deploymentId: "d_missing" }, bearer(ws.rootKey)))).code).toBe(Code.NotFound);
    expect((await failure(api().getDeploymentLogs({ deploymentId, afterSeq: -1n }, bearer(ws.rootKey)))).code).toBe(Code.InvalidArgument);
  });
});
