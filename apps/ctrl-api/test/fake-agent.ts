/**
 * Test helpers for the deploy path: a stack whose worker has short readiness timeouts, clients,
 * fixtures, and a fake agent that plays krane through the real ClusterService RPCs (WatchDeployments
 * stream → ReportDeploymentStatus), so every test exercises the wire protocol, not the database.
 */
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createEndpoint } from "@ctrl/ctrl-worker/endpoint";
import { createRootKey, newId, type Db } from "@ctrl/db";
import {
  ClusterService,
  DeploymentService,
  ReportDeploymentStatusRequest_Update_Instance_Status as InstanceStatus,
  type ApplyDeployment,
  type DeploymentState,
} from "@ctrl/proto";
import { registerDeployment } from "@ctrl/testing";
import { startTestStack, type TestStack, type TestStackOptions } from "./harness.js";

/** The worker's deploy tunables (readiness timeout, poll, regions, apex …). */
export type WorkerSettings = NonNullable<Parameters<typeof createEndpoint>[0]["settings"]>;

/** `{headers: {authorization}}` for a client call. */
export const bearer = (token: string, region?: string) => ({
  headers: { authorization: `Bearer ${token}`, ...(region ? { "x-krane-region": region } : {}) },
});

/** The ConnectError a call fails with (fails the test when it succeeds). */
export async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail, it succeeded");
}

/**
 * The test stack with an in-process worker using `settings` (e.g. a 3 s readiness timeout and a
 * 50 ms readiness poll) instead of the harness's defaults.
 */
export async function startDeployStack(settings: Partial<WorkerSettings>, options: TestStackOptions = {}): Promise<TestStack> {
  const stack = await startTestStack({ ...options, worker: false });
  const endpoint = createEndpoint(
    { db: stack.deps.db, storage: stack.storage, logger: stack.deps.logger, settings },
    { identityKeys: stack.restate.identityKeys },
  );
  const port = await endpoint.listen(0, "127.0.0.1");
  const url = `http://127.0.0.1:${port}`;
  await registerDeployment(stack.restate.adminUrl, url);
  stack.worker = { endpoint, url };
  return stack;
}

/** Connect clients (HTTP/1.1) of the two services under test. */
export function clients(stack: TestStack): { deployments: Client<typeof DeploymentService>; cluster: Client<typeof ClusterService> } {
  const transport = createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" });
  return { deployments: createClient(DeploymentService, transport), cluster: createClient(ClusterService, transport) };
}

/** Creates a workspace with one project (environments production and preview) and a root key. */
export async function createWorkspace(db: Db, permissions: string[] = ["project.*.*"], defaultBranch?: string) {
  const now = Date.now();
  const workspaceId = newId("ws");
  const slug = workspaceId.toLowerCase().slice(3, 15);
  await db.insertInto("workspaces").values({ id: workspaceId, name: slug, slug, created_at: now, updated_at: now }).execute();
  const projectId = newId("proj");
  await db
    .insertInto("projects")
    .values({
      id: projectId,
      workspace_id: workspaceId,
      name: "app",
      slug: `app${slug.slice(0, 6)}`,
      live_deployment_id: null,
      created_at: now,
      updated_at: now,
      ...(defaultBranch ? { default_branch: defaultBranch } : {}),
    })
    .execute();
  const environments: Record<string, string> = {};
  for (const env of ["production", "preview"]) {
    const id = newId("env");
    await db
      .insertInto("environments")
      .values({ id, workspace_id: workspaceId, project_id: projectId, slug: env, regions: null, created_at: now, updated_at: now })
      .execute();
    environments[env] = id;
  }
  const { key } = await createRootKey(db, { workspaceId, name: "test", permissions, now });
  return { workspaceId, projectId, environments: environments as { production: string; preview: string }, rootKey: key };
}

/** How the fake agent answers an `apply`: the instances to report, or undefined to stay silent. */
export type AgentBehaviour = (
  apply: ApplyDeployment,
) => { status: InstanceStatus; failureReason?: string; exitCode?: number }[] | undefined;

/** Reports every desired replica `running` as soon as the topology arrives. */
export const runningOnSight: AgentBehaviour = (apply) => Array.from({ length: apply.replicas }, () => ({ status: InstanceStatus.RUNNING }));

/**
 * A krane stand-in for one region: streams WatchDeployments from `cursor`, records every message in
 * order, and answers each `apply` with a ReportDeploymentStatus made by `behaviour`.
 */
export class FakeAgent {
  readonly received: DeploymentState[] = [];
  readonly reportErrors: unknown[] = [];
  private readonly abort = new AbortController();
  private done: Promise<void> | undefined;
  streamError: unknown;

  constructor(
    private readonly stack: TestStack,
    readonly region: string,
    private readonly behaviour: AgentBehaviour,
    private readonly cursor = 0n,
  ) {}

  /** Opens the stream (returns at once; messages arrive in the background). */
  start(): this {
    const { cluster } = clients(this.stack);
    this.done = (async () => {
      try {
        const token = await this.stack.agentToken(this.region);
        for await (const state of cluster.watchDeployments(
          { region: this.region, versionLastSeen: this.cursor },
          { ...bearer(token), signal: this.abort.signal },
        )) {
          this.received.push(state);
          if (state.state.case === "apply") void this.report(state.state.value);
        }
      } catch (err) {
        if (!(ConnectError.from(err).code === Code.Canceled && this.abort.signal.aborted)) this.streamError = err;
      }
    })();
    return this;
  }

  private async report(apply: ApplyDeployment): Promise<void> {
    const instances = this.behaviour(apply);
    if (!instances) return;
    try {
      await clients(this.stack).cluster.reportDeploymentStatus(
        {
          change: {
            case: "update",
            value: {
              k8sName: apply.k8sName,
              instances: instances.map((i, n) => ({
                k8sName: `${apply.k8sName}-${this.region}-${n}`,
                address: `127.0.0.1:${20000 + n}`,
                cpuMillicores: apply.cpuMillicores,
                memoryMib: apply.memoryMib,
                status: i.status,
                failureReason: i.failureReason ?? "",
                ...(i.exitCode !== undefined ? { exitCode: i.exitCode } : {}),
              })),
            },
          },
        },
        bearer(await this.stack.agentToken(this.region), this.region),
      );
    } catch (err) {
      this.reportErrors.push(err);
    }
  }

  /** Versions received so far, as numbers. */
  versions(): number[] {
    return this.received.map((s) => Number(s.version));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
