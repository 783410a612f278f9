// Long because the ClusterService cases share one stack and its agent credentials.
/**
 * ClusterService, the agents' sync protocol, through real Connect and gRPC clients, with versioned
 * rows committed by the worker's real VersioningService (through the Restate ingress).
 * Guarantees: cursor semantics (0 = the current desired state of a consistent snapshot, then every
 * later version; N = every version after N, in order, never twice); regions never see each other's
 * rows; ApplyDeployment carries image, replicas, CPU, memory, command, port and health path; stopped
 * topology and archived sentinels arrive as `delete`; reports upsert and remove instances of the
 * credential's region only; a missing or wrong token, a root key and a region that differs from the
 * credential's are rejected (credentials.int.test.ts covers the credential rules in depth).
 */
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { SentinelChange, TopologyChange, VersioningServiceApi } from "@ctrl/ctrl-worker/api";
import { newId } from "@ctrl/db";
import {
  ClusterService,
  ReportDeploymentStatusRequest_Update_Instance_Status as InstanceStatus,
  ReportSentinelStatusRequest_Health as Health,
  type DeploymentState,
  type SentinelState,
} from "@ctrl/proto";
import { exposeServicesForTest, waitFor } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterFeeds } from "../src/services/cluster-service/feeds.js";
import { bearer, clients, createWorkspace, failure, startDeployStack } from "./fake-agent.js";
import type { TestStack } from "./harness.js";

let stack: TestStack;
let ws: Awaited<ReturnType<typeof createWorkspace>>;

beforeAll(async () => {
  stack = await startDeployStack({});
  // VersioningService is ingress-private; this file commits topology through it directly.
  await exposeServicesForTest(stack.restate.adminUrl, ["VersioningService"]);
  ws = await createWorkspace(stack.deps.db);
}, 90_000);
afterAll(async () => stack?.close());

const cluster = () => clients(stack).cluster;
/** The agent credential of `region` used by these tests: reports on 10.0.0.1 and 127.0.0.1, ports 20000-29999. */
const agent = (region: string) => stack.agentToken(region, { advertiseHosts: ["10.0.0.1", "127.0.0.1"] });
const versioning = (region: string) => stack.deps.restate.objectClient<VersioningServiceApi>({ name: "VersioningService" }, region);

/** A deployment row (what the topology joins to) with distinctive resources. */
async function deployment(overrides: { command?: string[] } = {}) {
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
      image: `registry.test/app:${id.slice(2, 8).toLowerCase()}`,
      build_id: null,
      git_commit_sha: "",
      git_branch: "main",
      git_commit_message: null,
      git_commit_author_handle: null,
      git_commit_author_avatar_url: null,
      git_commit_timestamp: null,
      command: overrides.command ? JSON.stringify(overrides.command) : null,
      status: "deploying",
      error_message: null,
      failed_step: null,
      openapi_spec: null,
      cpu_millicores: 750,
      memory_mib: 384,
      replicas: 2,
      port: 3000,
      health_check_path: "/ready",
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** Commits a topology change through the worker's VersioningService (the real version path). */
async function commit(region: string, deploymentId: string, desiredStatus: TopologyChange["desiredStatus"], desiredReplicas = 2) {
  const result = await versioning(region).commitTopology({ workspaceId: ws.workspaceId, deploymentId, desiredReplicas, desiredStatus });
  return result.version;
}

/** Collects a WatchDeployments stream until `stop()`. */
function watch(region: string, cursor: bigint, transport?: "grpc") {
  const abort = new AbortController();
  const received: DeploymentState[] = [];
  const client = transport === "grpc" ? createClient(ClusterService, createGrpcTransport({ baseUrl: stack.grpcUrl })) : cluster();
  const done = (async () => {
    try {
      for await (const s of client.watchDeployments(
        { region, versionLastSeen: cursor },
        { ...bearer(await agent(region)), signal: abort.signal },
      ))
        received.push(s);
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
  })();
  return {
    received,
    summary: () =>
      received.map((s) => [
        Number(s.version),
        s.state.case,
        s.state.case === "apply" ? s.state.value.deploymentId : s.state.value?.k8sName,
      ]),
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

describe("WatchDeployments", () => {
  it("cursor 0 gets the running rows of a snapshot, then later changes; cursor N gets everything after N; regions are isolated", async () => {
    const region = "eu-1";
    const [a, b, c, d] = [await deployment({ command: ["node", "server.js"] }), await deployment(), await deployment(), await deployment()];
    const va = await commit(region, a, "running");
    const vb1 = await commit(region, b, "running");
    const vb2 = await commit(region, b, "stopped");
    const vc = await commit(region, c, "running");
    expect([va, vb1, vb2, vc]).toEqual([...[va, vb1, vb2, vc]].sort((x, y) => x - y));
    await commit("us-1", d, "running"); // another region: never in eu-1's stream

    const fresh = watch(region, 0n);
    const resumed = watch(region, BigInt(va));
    const grpc = watch(region, 0n, "grpc");
    await waitFor("the snapshot", () => fresh.received.length >= 2 && grpc.received.length >= 2 && resumed.received.length >= 2);
    const vd = await commit(region, d, "running");
    await waitFor("the live change", () => [fresh, resumed, grpc].every((w) => w.received.some((s) => Number(s.version) === vd)));
    await Promise.all([fresh.stop(), resumed.stop(), grpc.stop()]);

    // The snapshot holds only running rows (b is stopped), in version order; then d.
    expect(fresh.summary()).toEqual([
      [va, "apply", a],
      [vc, "apply", c],
      [vd, "apply", d],
    ]);
    expect(grpc.summary()).toEqual(fresh.summary());
    // From a cursor: every version after it, including b's stop as a delete.
    expect(resumed.summary()).toEqual([
      [vb2, "delete", b],
      [vc, "apply", c],
      [vd, "apply", d],
    ]);

    const apply = fresh.received[0]!.state.value as Extract<DeploymentState["state"], { case: "apply" }>["value"];
    expect(apply).toMatchObject({
      k8sNamespace: ws.workspaceId,
      k8sName: a,
      deploymentId: a,
      workspaceId: ws.workspaceId,
      projectId: ws.projectId,
      environmentId: ws.environments.preview,
      replicas: 2,
      cpuMillicores: 750n,
      memoryMib: 384n,
      command: ["node", "server.js"],
      port: 3000,
      healthCheckPath: "/ready",
    });
    expect(apply.image).toMatch(/^registry\.test\/app:/);
    expect(resumed.received[0]!.state).toEqual({
      case: "delete",
      value: expect.objectContaining({ k8sName: b, k8sNamespace: ws.workspaceId }),
    });

    // us-1 sees only its own row.
    const us = watch("us-1", 0n);
    await waitFor("us-1 snapshot", () => us.received.length >= 1);
    await us.stop();
    expect(us.summary().map((r) => r[2])).toEqual([d]);
  });

  it("shares one poller per region among all watchers of a process and stops it with the last", async () => {
    const region = "shared-1";
    const feeds = clusterFeeds(stack.deps);
    // Earlier tests' streams end asynchronously on the server; start from no active poller.
    await waitFor("earlier pollers to stop", () => feeds.deployments.activeRegions === 0);
    const before = 0;
    const watchers = Array.from({ length: 10 }, () => watch(region, 0n));
    const id = await deployment();
    const v = await commit(region, id, "running");
    await waitFor("every watcher to get the row", () => watchers.every((w) => w.received.some((s) => Number(s.version) === v)));
    expect(feeds.deployments.activeRegions).toBe(before + 1);
    await Promise.all(watchers.map((w) => w.stop()));
    await waitFor("the poller to stop", () => feeds.deployments.activeRegions === before);
    for (const w of watchers) expect(w.summary()).toEqual([[v, "apply", id]]);
  });

  it("rejects a missing token, a root key, and a region or header other than the credential's; an empty region means the credential's", async () => {
    const drain = async (opts: object, region = "eu-1") => {
      for await (const _ of cluster().watchDeployments({ region, versionLastSeen: 0n }, opts)) void _;
    };
    expect((await failure(drain({}))).code).toBe(Code.Unauthenticated);
    expect((await failure(drain(bearer("not-the-token")))).code).toBe(Code.Unauthenticated);
    expect((await failure(drain(bearer(ws.rootKey)))).code).toBe(Code.PermissionDenied);
    expect((await failure(drain(bearer(stack.operatorToken)))).code).toBe(Code.PermissionDenied);
    expect((await failure(drain(bearer(await agent("us-1"))))).code).toBe(Code.PermissionDenied);
    expect((await failure(drain(bearer(await agent("eu-1"), "us-1"), "eu-1"))).code).toBe(Code.PermissionDenied);
    expect((await failure(drain(bearer(await agent("eu-1"), "us-1"), ""))).code).toBe(Code.PermissionDenied);
    const sentinels = async () => {
      for await (const _ of cluster().watchSentinels({ region: "eu-1" }, {})) void _;
    };
    expect((await failure(sentinels())).code).toBe(Code.Unauthenticated);
  });
});

describe("WatchSentinels", () => {
  it("streams sentinels like deployments: snapshot without archived ones, standby as 0 replicas, archive as delete", async () => {
    const region = "eu-2";
    const sentinel = (id: string, k8sName: string, change: Partial<SentinelChange> = {}): SentinelChange => ({
      sentinelId: id,
      create: {
        workspaceId: ws.workspaceId,
        projectId: ws.projectId,
        environmentId: newId("env"),
        k8sName,
        cpuMillicores: 100,
        memoryMib: 128,
      },
      image: "sentinel:1",
      desiredReplicas: 3,
      ...change,
    });
    const [s1, s2] = [newId("se"), newId("se")];
    const v1 = (await versioning(region).commitSentinel(sentinel(s1, "sentinel-one"))).version;
    await versioning(region).commitSentinel(sentinel(s2, "sentinel-two"));
    const v2b = (await versioning(region).commitSentinel({ sentinelId: s2, desiredState: "archived" })).version;

    const abort = new AbortController();
    const received: SentinelState[] = [];
    const done = (async () => {
      try {
        for await (const s of cluster().watchSentinels(
          { region, versionLastSeen: 0n },
          { ...bearer(await agent(region)), signal: abort.signal },
        ))
          received.push(s);
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
    })();
    await waitFor("the snapshot", () => received.length >= 1);
    // Rows are state, not a log: a row changed twice before a poll is seen once, at its latest
    // version. Wait for each change so the stream shows both.
    const v1b = (await versioning(region).commitSentinel({ sentinelId: s1, desiredState: "standby" })).version;
    await waitFor("the standby change", () => received.length >= 2);
    const v1c = (await versioning(region).commitSentinel({ sentinelId: s1, desiredState: "archived" })).version;
    await waitFor("the archive", () => received.length >= 3);
    abort.abort();
    await done;
    expect(v2b).toBeLessThan(v1b);
    expect(received.map((s) => Number(s.version))).toEqual([v1, v1b, v1c]);
    expect(received[0]!.state).toEqual({
      case: "apply",
      value: expect.objectContaining({
        k8sName: "sentinel-one",
        sentinelId: s1,
        image: "sentinel:1",
        replicas: 3,
        cpuMillicores: 100n,
        memoryMib: 128n,
      }),
    });
    expect(received[1]!.state).toEqual({ case: "apply", value: expect.objectContaining({ replicas: 0 }) });
    expect(received[2]!.state).toEqual({ case: "delete", value: expect.objectContaining({ k8sName: "sentinel-one" }) });

    // GetDesiredSentinelState: version unset, region-scoped.
    const got = await cluster().getDesiredSentinelState({ sentinelId: s1 }, bearer(await agent(region), region));
    expect(got.version).toBe(0n);
    expect(got.state.case).toBe("delete");
    expect((await failure(cluster().getDesiredSentinelState({ sentinelId: s1 }, bearer(await agent("us-9"))))).code).toBe(Code.NotFound);

    // ReportSentinelStatus records health for the reporting region's sentinel only.
    await cluster().reportSentinelStatus(
      {
        k8sName: "sentinel-one",
        availableReplicas: 2,
        health: Health.HEALTHY,
        image: "sentinel:1",
        addresses: ["127.0.0.1:20001", "127.0.0.1:20002"],
      },
      bearer(await agent(region)),
    );
    const row = await stack.deps.db.selectFrom("sentinels").selectAll().where("id", "=", s1).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      health: "healthy",
      available_replicas: 2,
      running_image: "sentinel:1",
      addresses: JSON.stringify(["127.0.0.1:20001", "127.0.0.1:20002"]),
    });
    expect(Number(row.version)).toBe(v1c); // actual state takes no version
    expect(
      (await failure(cluster().reportSentinelStatus({ k8sName: "sentinel-one", health: Health.HEALTHY }, bearer(await agent("us-9")))))
        .code,
    ).toBe(Code.NotFound);
    expect(
      (
        await failure(
          cluster().reportSentinelStatus({ k8sName: "sentinel-one", health: Health.HEALTHY }, bearer(await agent(region), "us-9")),
        )
      ).code,
    ).toBe(Code.PermissionDenied);
  });
});

describe("GetDesiredDeploymentState", () => {
  it("answers the credential's region with the version unset; a differing region header is refused", async () => {
    const id = await deployment();
    await commit("eu-3", id, "running");
    const got = await cluster().getDesiredDeploymentState({ deploymentId: id }, bearer(await agent("eu-3"), "eu-3"));
    expect(got.version).toBe(0n);
    expect(got.state).toEqual({ case: "apply", value: expect.objectContaining({ deploymentId: id, replicas: 2, port: 3000 }) });
    await commit("eu-3", id, "stopped");
    // No header: the credential's region.
    expect((await cluster().getDesiredDeploymentState({ deploymentId: id }, bearer(await agent("eu-3")))).state.case).toBe("delete");
    expect((await failure(cluster().getDesiredDeploymentState({ deploymentId: id }, bearer(await agent("us-3"))))).code).toBe(
      Code.NotFound,
    );
    const forged = await failure(cluster().getDesiredDeploymentState({ deploymentId: id }, bearer(await agent("us-3"), "eu-3")));
    expect(forged.code).toBe(Code.PermissionDenied);
    expect(forged.rawMessage).toContain("x-krane-region");
    expect(
      (await failure(cluster().getDesiredDeploymentState({ deploymentId: id }, bearer(await agent("eu-3"), "bad region!")))).code,
    ).toBe(Code.PermissionDenied);
    expect((await failure(cluster().getDesiredDeploymentState({ deploymentId: id }, { headers: { "x-krane-region": "eu-3" } }))).code).toBe(
      Code.Unauthenticated,
    );
    expect((await failure(cluster().getDesiredDeploymentState({ deploymentId: "" }, bearer(await agent("eu-3"))))).code).toBe(
      Code.InvalidArgument,
    );
  });
});

describe("ReportDeploymentStatus", () => {
  const instance = (k8sName: string, status: InstanceStatus, extra: object = {}) => ({
    k8sName,
    address: `10.0.0.1:${20000 + k8sName.length}`,
    cpuMillicores: 250n,
    memoryMib: 256n,
    status,
    ...extra,
  });
  const instancesOf = (id: string) =>
    stack.deps.db.selectFrom("instances").selectAll().where("deployment_id", "=", id).orderBy("region").orderBy("k8s_name").execute();

  it("upserts the reported instances and removes the deployment's others, in the reporting region only", async () => {
    const id = await deployment();
    await commit("eu-4", id, "running");
    await commit("us-4", id, "running");
    const report = async (region: string, instances: ReturnType<typeof instance>[]) =>
      cluster().reportDeploymentStatus({ change: { case: "update", value: { k8sName: id, instances } } }, bearer(await agent(region)));
    await report("eu-4", [instance("i-1", InstanceStatus.PENDING), instance("i-2", InstanceStatus.PENDING)]);
    await report("us-4", [instance("i-1", InstanceStatus.RUNNING)]); // same name, other region: another instance
    expect((await instancesOf(id)).map((i) => [i.region, i.k8s_name, i.status])).toEqual([
      ["eu-4", "i-1", "pending"],
      ["eu-4", "i-2", "pending"],
      ["us-4", "i-1", "running"],
    ]);

    await report("eu-4", [
      instance("i-2", InstanceStatus.RUNNING),
      instance("i-3", InstanceStatus.FAILED, { exitCode: 70, failureReason: "crashed", haltIntent: "config" }),
    ]);
    const rows = await instancesOf(id);
    expect(rows.map((i) => [i.region, i.k8s_name, i.status])).toEqual([
      ["eu-4", "i-2", "running"],
      ["eu-4", "i-3", "failed"],
      ["us-4", "i-1", "running"],
    ]);
    expect(rows.find((r) => r.k8s_name === "i-3")).toMatchObject({
      exit_code: 70,
      failure_reason: "crashed",
      halt_intent: "config",
      project_id: ws.projectId,
      workspace_id: ws.workspaceId,
    });

    await report("eu-4", []); // an empty report: nothing runs there any more
    expect((await instancesOf(id)).map((i) => [i.region, i.k8s_name])).toEqual([["us-4", "i-1"]]);
    await report("eu-4", [instance("i-9", InstanceStatus.RUNNING)]);
    await cluster().reportDeploymentStatus({ change: { case: "delete", value: { k8sName: id } } }, bearer(await agent("eu-4")));
    expect((await instancesOf(id)).map((i) => [i.region, i.k8s_name])).toEqual([["us-4", "i-1"]]);
  });

  it("rejects bad reports and changes nothing", async () => {
    const id = await deployment();
    await commit("eu-5", id, "running");
    const send = async (change: Parameters<ReturnType<typeof cluster>["reportDeploymentStatus"]>[0]["change"], header?: string) =>
      cluster().reportDeploymentStatus({ change }, bearer(await agent("eu-5"), header));
    expect((await failure(send({ case: "update", value: { k8sName: "d_missing", instances: [] } }))).code).toBe(Code.NotFound);
    expect(
      (
        await failure(
          send({
            case: "update",
            value: { k8sName: id, instances: [instance("x", InstanceStatus.RUNNING), instance("x", InstanceStatus.RUNNING)] },
          }),
        )
      ).code,
    ).toBe(Code.InvalidArgument);
    expect((await failure(send({ case: "update", value: { k8sName: id, instances: [instance("", InstanceStatus.RUNNING)] } }))).code).toBe(
      Code.InvalidArgument,
    );
    expect((await failure(send({ case: "update", value: { k8sName: "", instances: [] } }))).code).toBe(Code.InvalidArgument);
    expect((await failure(send({ case: undefined }))).code).toBe(Code.InvalidArgument);
    expect((await failure(send({ case: "update", value: { k8sName: id, instances: [] } }, "us-5"))).code).toBe(Code.PermissionDenied); // a forged region header
    expect(
      (
        await failure(
          cluster().reportDeploymentStatus(
            { change: { case: "update", value: { k8sName: id, instances: [] } } },
            bearer(ws.rootKey, "eu-5"),
          ),
        )
      ).code,
    ).toBe(Code.PermissionDenied);
    expect(
      (
        await failure(
          cluster().reportDeploymentStatus(
            { change: { case: "update", value: { k8sName: id, instances: [] } } },
            { headers: { "x-krane-region": "eu-5" } },
          ),
        )
      ).code,
    ).toBe(Code.Unauthenticated);
    expect(await instancesOf(id)).toEqual([]);
  });
});
