/**
 * Fleet fixtures for tests and benchmarks: sentinel rows inserted the way VersioningService commits
 * them (a version per row), and a fake agent per region that streams WatchSentinels and reports
 * every applied image healthy at once through the real ReportSentinelStatus (which resolves the
 * waiting `SentinelService.deploy`'s awakeable).
 */
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { allocateVersion, type Db } from "@ctrl/db";
import { ClusterService, ReportSentinelStatusRequest_Health, SentinelRolloutService } from "@ctrl/proto";
import type { TestStack } from "./harness.js";

/** Inserts `count` sentinels round-robin over `regions` on `image`; returns their ids in insertion order. */
export async function insertSentinelFleet(
  db: Db,
  seed: { workspaceId: string; projectId: string },
  count: number,
  regions: string[],
  image: string,
  prefix = "se_fleet",
): Promise<string[]> {
  const ids: string[] = [];
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const region = regions[i % regions.length]!;
    const id = `${prefix}_${String(i).padStart(4, "0")}`;
    await db.transaction().execute(async (trx) => {
      const version = await allocateVersion(trx, region);
      await trx
        .insertInto("sentinels")
        .values({
          id,
          workspace_id: seed.workspaceId,
          project_id: seed.projectId,
          environment_id: `env_${id}`,
          region,
          k8s_name: `sentinel-${id.replace(/_/g, "-").toLowerCase()}`,
          image,
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
    });
    ids.push(id);
  }
  return ids;
}

/** Bearer headers for the stack's operator credential (what the fleet API requires). */
export function operatorAuth(stack: Pick<TestStack, "operatorToken">) {
  return { headers: { authorization: `Bearer ${stack.operatorToken}` } };
}

/** The fleet API client (pass {@link operatorAuth} per call). */
export function fleetClient(stack: Pick<TestStack, "apiUrl">): Client<typeof SentinelRolloutService> {
  return createClient(SentinelRolloutService, createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" }));
}

/** Starts one acknowledging agent per region; `stop()` ends their streams. */
export function startFakeSentinelAgents(stack: Pick<TestStack, "apiUrl" | "agentToken">, regions: string[]): { stop(): Promise<void> } {
  const cluster = createClient(ClusterService, createConnectTransport({ baseUrl: stack.apiUrl, httpVersion: "1.1" }));
  const abort = new AbortController();
  const loops = regions.map(async (region) => {
    try {
      // Each region's agent has its own credential (the region comes from it).
      const auth = { headers: { authorization: `Bearer ${await stack.agentToken(region)}` } };
      for await (const state of cluster.watchSentinels({ region, versionLastSeen: 0n }, { ...auth, signal: abort.signal })) {
        if (state.state.case !== "apply") continue;
        const a = state.state.value;
        void cluster
          .reportSentinelStatus(
            {
              k8sName: a.k8sName,
              availableReplicas: a.replicas,
              health: ReportSentinelStatusRequest_Health.HEALTHY,
              image: a.image,
              addresses: ["127.0.0.1:20001"],
              converged: true,
            },
            auth,
          )
          .catch((err: unknown) => console.error(`report of ${a.k8sName} failed: ${(err as Error).message}`));
      }
    } catch (err) {
      if (!abort.signal.aborted) console.error(`fake agent ${region}: stream ended: ${(err as Error).message}`);
    }
  });
  return {
    async stop() {
      abort.abort();
      await Promise.allSettled(loops);
    },
  };
}
