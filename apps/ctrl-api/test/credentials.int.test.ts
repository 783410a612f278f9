// Long because the credential cases share one stack and its seeded keys.
/**
 * Credentials with a scope (issue 10), through the real ctrl-api over real Connect and real MariaDB:
 * - an agent credential is bound to its region: it cannot watch or read another region, not even
 *   with a forged `X-Krane-Region`; it reports only deployments and sentinels with desired state in
 *   its region, and only addresses on its own host and port range (nothing is stored otherwise);
 * - a revoked or unknown agent token is `unauthenticated`;
 * - frontline's credential reaches AcmeService only; the operator token reaches everything except
 *   ClusterService; agents reach ClusterService only.
 */
import { Code, createClient } from "@connectrpc/connect";
import { newId, revokeAgentCredential } from "@ctrl/db";
import {
  AcmeService,
  ClusterService,
  DeploymentService,
  DomainService,
  ReportDeploymentStatusRequest_Update_Instance_Status as InstanceStatus,
  ReportSentinelStatusRequest_Health as Health,
} from "@ctrl/proto";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, createWorkspace, failure } from "./fake-agent.js";
import { startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
let ws: Awaited<ReturnType<typeof createWorkspace>>;
let client: {
  cluster: ReturnType<typeof createClient<typeof ClusterService>>;
  deployments: ReturnType<typeof createClient<typeof DeploymentService>>;
  acme: ReturnType<typeof createClient<typeof AcmeService>>;
  domains: ReturnType<typeof createClient<typeof DomainService>>;
};
/** A deployment with desired state in region a-1 only, and a sentinel in each of a-1 and b-1. */
let deploymentA: string;
let deploymentB: string;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  ws = await createWorkspace(stack.deps.db);
  const transport = createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" });
  client = {
    cluster: createClient(ClusterService, transport),
    deployments: createClient(DeploymentService, transport),
    acme: createClient(AcmeService, transport),
    domains: createClient(DomainService, transport),
  };
  deploymentA = await deploymentIn("a-1", 1);
  deploymentB = await deploymentIn("b-1", 1);
  await sentinelIn("a-1", "sentinel-a", 2);
  await sentinelIn("b-1", "sentinel-b", 2);
}, 90_000);
afterAll(async () => stack?.close());

/** A deployment row with a running topology row in `region` at `version` (no worker needed to read it). */
async function deploymentIn(region: string, version: number): Promise<string> {
  const id = newId("d");
  const now = Date.now();
  await stack.deps.db
    .insertInto("deployments")
    .values({
      id,
      workspace_id: ws.workspaceId,
      project_id: ws.projectId,
      environment_id: ws.environments.preview,
      source_type: "image",
      build_context_path: null,
      dockerfile_path: null,
      image: "registry.test/app:1",
      build_id: null,
      git_commit_sha: "",
      git_branch: "main",
      git_commit_message: null,
      git_commit_author_handle: null,
      git_commit_author_avatar_url: null,
      git_commit_timestamp: null,
      command: null,
      status: "deploying",
      error_message: null,
      failed_step: null,
      openapi_spec: null,
      cpu_millicores: 250,
      memory_mib: 256,
      replicas: 1,
      port: 3000,
      health_check_path: "/health",
      created_at: now,
      updated_at: now,
    })
    .execute();
  await stack.deps.db
    .insertInto("deployment_topology")
    .values({
      id: newId("top"),
      workspace_id: ws.workspaceId,
      deployment_id: id,
      region,
      desired_replicas: 1,
      desired_status: "running",
      version,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

async function sentinelIn(region: string, k8sName: string, version: number): Promise<void> {
  const now = Date.now();
  await stack.deps.db
    .insertInto("sentinels")
    .values({
      id: newId("se"),
      workspace_id: ws.workspaceId,
      project_id: ws.projectId,
      environment_id: ws.environments.production,
      region,
      k8s_name: k8sName,
      image: "sentinel:1",
      desired_replicas: 1,
      desired_state: "running",
      cpu_millicores: 100,
      memory_mib: 128,
      health: "unknown",
      available_replicas: 0,
      running_image: null,
      addresses: null,
      version,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

/** The first message of a WatchDeployments stream, then the stream is closed. */
async function firstWatched(opts: { headers: Record<string, string> }, region: string) {
  const abort = new AbortController();
  for await (const s of client.cluster.watchDeployments({ region, versionLastSeen: 0n }, { ...opts, signal: abort.signal })) {
    abort.abort();
    return s;
  }
  throw new Error("the stream ended without a message");
}

const instance = (address: string) => ({ k8sName: "i-1", address, cpuMillicores: 250n, memoryMib: 256n, status: InstanceStatus.RUNNING });
const instancesOf = (deploymentId: string) =>
  stack.deps.db.selectFrom("instances").select(["region", "address"]).where("deployment_id", "=", deploymentId).execute();

describe("agent credentials are bound to their region", () => {
  it("watches its own region (named or not) and never another, not even with a forged header", async () => {
    const a = await stack.agentToken("a-1");
    const own = await firstWatched(bearer(a), "a-1");
    expect(own.state.case === "apply" && own.state.value.deploymentId).toBe(deploymentA);
    const implicit = await firstWatched(bearer(a), "");
    expect(implicit.state.case === "apply" && implicit.state.value.deploymentId).toBe(deploymentA);

    const other = await failure(firstWatched(bearer(a), "b-1"));
    expect(other.code).toBe(Code.PermissionDenied);
    expect(other.rawMessage).toContain('"b-1" is not this credential\'s region "a-1"');
    expect((await failure(firstWatched(bearer(a, "b-1"), "b-1"))).code).toBe(Code.PermissionDenied);
    expect((await failure(firstWatched(bearer(a, "b-1"), ""))).code).toBe(Code.PermissionDenied);
    const sentinels = async () => {
      for await (const _ of client.cluster.watchSentinels({ region: "b-1" }, bearer(a))) void _;
    };
    expect((await failure(sentinels())).code).toBe(Code.PermissionDenied);
  });

  it("reads desired state of its region only; a forged header is permission_denied", async () => {
    const a = await stack.agentToken("a-1");
    expect((await client.cluster.getDesiredDeploymentState({ deploymentId: deploymentA }, bearer(a))).state.case).toBe("apply");
    expect((await failure(client.cluster.getDesiredDeploymentState({ deploymentId: deploymentB }, bearer(a)))).code).toBe(Code.NotFound);
    expect((await failure(client.cluster.getDesiredDeploymentState({ deploymentId: deploymentB }, bearer(a, "b-1")))).code).toBe(
      Code.PermissionDenied,
    );
  });

  it("reports only deployments and sentinels that have desired state in its region; nothing is stored otherwise", async () => {
    const a = await stack.agentToken("a-1");
    const report = (deploymentId: string, header?: string, address = "127.0.0.1:20001") =>
      client.cluster.reportDeploymentStatus(
        { change: { case: "update", value: { k8sName: deploymentId, instances: [instance(address)] } } },
        bearer(a, header),
      );
    await report(deploymentA);
    expect(await instancesOf(deploymentA)).toEqual([{ region: "a-1", address: "127.0.0.1:20001" }]);

    const notRun = await failure(report(deploymentB));
    expect(notRun.code).toBe(Code.NotFound);
    expect(notRun.rawMessage).toContain(`deployment ${deploymentB} has no desired state in region a-1`);
    expect((await failure(report(deploymentB, "b-1"))).code).toBe(Code.PermissionDenied);
    expect(
      (await failure(client.cluster.reportDeploymentStatus({ change: { case: "delete", value: { k8sName: deploymentB } } }, bearer(a))))
        .code,
    ).toBe(Code.NotFound);
    expect(await instancesOf(deploymentB)).toEqual([]);

    await client.cluster.reportSentinelStatus(
      { k8sName: "sentinel-a", availableReplicas: 1, health: Health.HEALTHY, addresses: ["127.0.0.1:20002"] },
      bearer(a),
    );
    expect(
      (
        await failure(
          client.cluster.reportSentinelStatus(
            { k8sName: "sentinel-b", availableReplicas: 1, health: Health.HEALTHY, addresses: ["127.0.0.1:20003"] },
            bearer(a),
          ),
        )
      ).code,
    ).toBe(Code.NotFound);
    const b = await stack.deps.db
      .selectFrom("sentinels")
      .select(["health", "addresses"])
      .where("k8s_name", "=", "sentinel-b")
      .executeTakeFirstOrThrow();
    expect(b).toEqual({ health: "unknown", addresses: null });
  });

  it("rejects an instance or sentinel address off the credential's host or port range, naming it, and stores nothing", async () => {
    const narrow = await stack.agentToken("a-1", { advertiseHosts: ["127.0.0.1"], ports: { low: 21000, high: 21009 } });
    const fresh = await deploymentIn("a-1", 3);
    for (const address of ["127.0.0.1:9070", "127.0.0.1:7070", "127.0.0.1:21010", "10.1.2.3:21000", "127.0.0.1"]) {
      const err = await failure(
        client.cluster.reportDeploymentStatus(
          { change: { case: "update", value: { k8sName: fresh, instances: [instance(address)] } } },
          bearer(narrow),
        ),
      );
      expect(err.code, address).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toContain(`update.instances[0].address ${JSON.stringify(address)}`);
    }
    expect(await instancesOf(fresh)).toEqual([]);
    await client.cluster.reportDeploymentStatus(
      { change: { case: "update", value: { k8sName: fresh, instances: [instance("127.0.0.1:21009")] } } },
      bearer(narrow),
    );
    expect(await instancesOf(fresh)).toEqual([{ region: "a-1", address: "127.0.0.1:21009" }]);

    const before = await stack.deps.db
      .selectFrom("sentinels")
      .select("addresses")
      .where("k8s_name", "=", "sentinel-a")
      .executeTakeFirstOrThrow();
    const err = await failure(
      client.cluster.reportSentinelStatus(
        { k8sName: "sentinel-a", availableReplicas: 1, health: Health.HEALTHY, addresses: ["127.0.0.1:21001", "127.0.0.1:9070"] },
        bearer(narrow),
      ),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain('addresses[1] "127.0.0.1:9070"');
    expect(
      await stack.deps.db.selectFrom("sentinels").select("addresses").where("k8s_name", "=", "sentinel-a").executeTakeFirstOrThrow(),
    ).toEqual(before);
  });

  it("a revoked or unknown agent token is unauthenticated", async () => {
    const region = "revoke-1";
    const token = await stack.agentToken(region);
    expect((await client.cluster.getDesiredSentinelState({ sentinelId: "se_none" }, bearer(token)).catch((e) => e)).code).toBe(
      Code.NotFound,
    ); // authenticated
    const row = await stack.deps.db.selectFrom("agent_credentials").select("id").where("region", "=", region).executeTakeFirstOrThrow();
    expect(await revokeAgentCredential(stack.deps.db, row.id, Date.now())).toBe(true);
    expect((await failure(client.cluster.getDesiredSentinelState({ sentinelId: "se_none" }, bearer(token)))).code).toBe(
      Code.Unauthenticated,
    );
    expect((await failure(firstWatched(bearer(token), region))).code).toBe(Code.Unauthenticated);
    expect(
      (await failure(client.cluster.getDesiredSentinelState({ sentinelId: "se_none" }, bearer(`ctrl_agent_${"x".repeat(40)}`)))).code,
    ).toBe(Code.Unauthenticated);
  });

  it("an agent credential reaches nothing but ClusterService", async () => {
    const a = await stack.agentToken("a-1");
    expect((await failure(client.deployments.getDeployment({ deploymentId: deploymentA }, bearer(a)))).code).toBe(Code.PermissionDenied);
    expect((await failure(client.acme.verifyCertificate({ domain: "x.example.com", token: "t" }, bearer(a)))).code).toBe(
      Code.PermissionDenied,
    );
    expect((await failure(client.domains.getCustomDomain({ domain: "x.example.com" }, bearer(a)))).code).toBe(Code.PermissionDenied);
  });
});

describe("frontline and operator credentials", () => {
  it("frontline reads ACME challenges and gets permission_denied on DeploymentService, DomainService and ClusterService", async () => {
    const now = Date.now();
    const domainId = newId("dom");
    await stack.deps.db
      .insertInto("custom_domains")
      .values({
        id: domainId,
        workspace_id: ws.workspaceId,
        project_id: ws.projectId,
        environment_id: ws.environments.production,
        domain: "acme.example.com",
        challenge_type: "http-01",
        verification_status: "verified",
        verification_value: "ctrl-domain-verification=x",
        verified_domain: "acme.example.com",
        verified_at: now,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await stack.deps.db
      .insertInto("acme_challenges")
      .values({
        id: newId("chal"),
        workspace_id: ws.workspaceId,
        domain_id: domainId,
        token: "tok-1",
        authorization: "tok-1.thumb",
        type: "http-01",
        status: "pending",
        error_message: null,
        expires_at: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const f = bearer(stack.frontlineToken);
    expect((await client.acme.verifyCertificate({ domain: "acme.example.com", token: "tok-1" }, f)).authorization).toBe("tok-1.thumb");
    expect((await failure(client.deployments.getDeployment({ deploymentId: deploymentA }, f))).code).toBe(Code.PermissionDenied);
    expect((await failure(client.domains.getCustomDomain({ domain: "acme.example.com" }, f))).code).toBe(Code.PermissionDenied);
    const watch = await failure(firstWatched(f, "a-1"));
    expect(watch.code).toBe(Code.PermissionDenied);
    expect(watch.rawMessage).toContain("frontline credential may only call ctrl.v1.AcmeService");
    // A root key is no frontline either.
    expect((await failure(client.acme.verifyCertificate({ domain: "acme.example.com", token: "tok-1" }, bearer(ws.rootKey)))).code).toBe(
      Code.PermissionDenied,
    );
  });

  it("the operator token acts across workspaces but is refused on ClusterService", async () => {
    const o = bearer(stack.operatorToken);
    expect((await client.deployments.getDeployment({ deploymentId: deploymentA }, o)).deployment?.id).toBe(deploymentA);
    const refused = await failure(firstWatched(o, "a-1"));
    expect(refused.code).toBe(Code.PermissionDenied);
    expect(refused.rawMessage).toContain("operator token is not accepted");
    expect(
      (
        await failure(
          client.cluster.reportDeploymentStatus(
            { change: { case: "delete", value: { k8sName: deploymentA } } },
            bearer(stack.operatorToken, "a-1"),
          ),
        )
      ).code,
    ).toBe(Code.PermissionDenied);
  });
});
