/**
 * Helpers of the rollout tests (issue 13), on top of the deploy harness: three regions with an agent
 * credential each, a previous deployment already serving, simulated agents that answer per region
 * (and can hold a region back or crash it), a tracker that records every split and topology change it
 * sees, a tiny HTTP server standing in for a sentinel's `/metrics`, and readers of the rollout row.
 */
import { findDeploymentRollout, newId, type Db, type InstanceStatus } from "@ctrl/db";
import type { FailureDetail, RolloutTarget } from "@ctrl/rollout";
import { waitFor } from "@ctrl/testing";
import http from "node:http";
import { attachDeploy, createProject, insertDeployment, playAgent, randomSha, submitDeploy, type DeployStack } from "./deploy-harness.js";

export const rolloutRegions = ["r1", "r2", "r3"];

/** Worker settings of the rollout tests: fast polls, the three regions. */
export const rolloutSettings = {
  regions: rolloutRegions,
  apexDomain: "ctrl.test",
  readinessTimeoutMs: 10_000,
  readinessPollMs: 50,
  openapiTimeoutMs: 300,
  rolloutControlPollMs: 50,
};

/** An agent credential per region (a region without one fails placement). */
export async function registerAgents(db: Db, regions: readonly string[]): Promise<void> {
  for (const region of regions) {
    await db
      .insertInto("agent_credentials")
      .values({
        id: newId("agc"),
        name: `agent-${region}`,
        region,
        token_sha256: newId("key"),
        advertise_hosts: "[]",
        port_min: 1,
        port_max: 65535,
        created_at: Date.now(),
        revoked_at: null,
      })
      .onDuplicateKeyUpdate({ revoked_at: null })
      .execute();
  }
}

/** A project whose production environment spans the three regions, with a first deployment serving it. */
export async function projectWithPrevious(stack: DeployStack, slug: string, regions: string[] = rolloutRegions) {
  const { projectId, environments } = await createProject(stack.db, stack.seed.workspaceId, slug, { regions });
  const environmentId = environments.production;
  const previous = await insertDeployment(stack.db, {
    workspaceId: stack.seed.workspaceId,
    projectId,
    environmentId,
    branch: "main",
    sha: randomSha(),
  });
  await submitDeploy(stack.rs, previous);
  await playAgent(stack.db, previous, regions, { status: "running" });
  const result = await attachDeploy(stack.rs, previous);
  if (result.status !== "ready") throw new Error(`previous deployment ended ${result.status}: ${result.errorMessage}`);
  return { projectId, environmentId, previous };
}

/** Inserts a deployment with a policy snapshot (the spec as ctrl-api stores it) and submits it. */
export async function deployWithPolicy(
  stack: DeployStack,
  where: { projectId: string; environmentId: string },
  policy: Record<string, unknown> | null,
): Promise<string> {
  const id = await insertDeployment(stack.db, {
    workspaceId: stack.seed.workspaceId,
    projectId: where.projectId,
    environmentId: where.environmentId,
    branch: "main",
    sha: randomSha(),
  });
  if (policy)
    await stack.db
      .updateTable("deployments")
      .set({ rollout_policy: JSON.stringify(policy) })
      .where("id", "=", id)
      .execute();
  await submitDeploy(stack.rs, id);
  return id;
}

/** What a simulated agent reports for a region: `hold` reports nothing yet. */
export type RegionBehaviour = { status: InstanceStatus; exitCode?: number; failureReason?: string } | "hold";

/**
 * Simulated agents of the three regions for one deployment: every `pollMs`, each region whose topology
 * is `running` gets its instances upserted with what its behaviour says (change it with `set`), and
 * each region whose topology is `stopped` loses its instances.
 */
export function startAgents(db: Db, deploymentId: string, initial: Record<string, RegionBehaviour> = {}, pollMs = 25) {
  const behaviour: Record<string, RegionBehaviour> = { ...initial };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const topology = await db.selectFrom("deployment_topology").selectAll().where("deployment_id", "=", deploymentId).execute();
      const rows = topology.filter((t) => t.desired_status === "running");
      // A stopped region's instances go away, as a real agent deletes them.
      const stopped = topology.filter((t) => t.desired_status === "stopped").map((t) => t.region);
      if (stopped.length)
        await db.deleteFrom("instances").where("deployment_id", "=", deploymentId).where("region", "in", stopped).execute();
      const deployment = await db
        .selectFrom("deployments")
        .select(["workspace_id", "project_id"])
        .where("id", "=", deploymentId)
        .executeTakeFirst();
      for (const row of rows) {
        const b = behaviour[row.region] ?? { status: "running" };
        if (b === "hold" || !deployment) continue;
        for (let i = 0; i < row.desired_replicas; i++) {
          const now = Date.now();
          await db
            .insertInto("instances")
            .values({
              id: newId("ins"),
              workspace_id: deployment.workspace_id,
              project_id: deployment.project_id,
              deployment_id: deploymentId,
              region: row.region,
              k8s_name: `${deploymentId.toLowerCase()}-${row.region}-${i}`,
              address: `127.0.0.1:${20000 + i}`,
              cpu_millicores: 100,
              memory_mib: 128,
              status: b.status,
              exit_code: b.exitCode ?? null,
              halt_intent: null,
              failure_reason: b.failureReason ?? null,
              created_at: now,
              updated_at: now,
            })
            .onDuplicateKeyUpdate({ status: b.status, exit_code: b.exitCode ?? null, failure_reason: b.failureReason ?? null })
            .execute();
        }
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  })();
  return {
    set(region: string, b: RegionBehaviour) {
      behaviour[region] = b;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** One change the tracker saw: a region's split weight, or a topology row of the new deployment appearing. */
export type TrackedEvent = { kind: "split"; region: string; weight: number } | { kind: "topology"; region: string; status: string };

/**
 * Polls the environment's splits and the deployment's topology every 10 ms and records each change
 * in order (a split removed is weight 0), so a test can assert the order regions went in.
 */
export function trackRollout(db: Db, environmentId: string, deploymentId: string) {
  const events: TrackedEvent[] = [];
  const weights = new Map<string, number>();
  const topology = new Map<string, string>();
  let stopped = false;
  const poll = async () => {
    const [splits, rows] = await Promise.all([
      db.selectFrom("region_traffic_splits").selectAll().where("environment_id", "=", environmentId).execute(),
      db.selectFrom("deployment_topology").select(["region", "desired_status"]).where("deployment_id", "=", deploymentId).execute(),
    ]);
    for (const row of rows) {
      if (topology.get(row.region) !== row.desired_status) {
        topology.set(row.region, row.desired_status);
        events.push({ kind: "topology", region: row.region, status: row.desired_status });
      }
    }
    const seen = new Map(splits.filter((s) => s.canary_deployment_id === deploymentId).map((s) => [s.region, Number(s.canary_weight)]));
    for (const region of new Set([...weights.keys(), ...seen.keys()])) {
      const weight = seen.get(region) ?? 0;
      if ((weights.get(region) ?? 0) !== weight) {
        weights.set(region, weight);
        events.push({ kind: "split", region, weight });
      }
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await poll();
      await new Promise((r) => setTimeout(r, 10));
    }
    await poll();
  })();
  return {
    events,
    weight: (region: string) => weights.get(region) ?? 0,
    async stop() {
      stopped = true;
      await loop;
      return events;
    },
  };
}

/** The rollout row with its JSON columns parsed. */
export async function readRollout(db: Db, deploymentId: string) {
  const row = await findDeploymentRollout(db, deploymentId);
  if (!row) return undefined;
  return {
    ...row,
    batchList: JSON.parse(row.batches) as string[][],
    targetList: JSON.parse(row.targets) as RolloutTarget[],
    failures: JSON.parse(row.failure_details) as FailureDetail[],
    checkpointValue: JSON.parse(row.checkpoint) as { batchIndex: number; batchCount: number; stepIndex: number },
    analysis: row.last_analysis ? (JSON.parse(row.last_analysis) as { verdict: string; errorRate: number; requests: number }) : null,
  };
}

/** Waits until the rollout row satisfies `check`. */
export async function waitForRollout(
  db: Db,
  deploymentId: string,
  what: string,
  check: (r: NonNullable<Awaited<ReturnType<typeof readRollout>>>) => boolean,
) {
  return waitFor(
    what,
    async () => {
      const r = await readRollout(db, deploymentId);
      return r && check(r) ? r : undefined;
    },
    { timeoutMs: 30_000 },
  );
}

/** The deployment the environment's `environment` route points at. */
export async function servingDeployment(db: Db, environmentId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("frontline_routes")
    .select("deployment_id")
    .where("environment_id", "=", environmentId)
    .where("sticky", "=", "environment")
    .executeTakeFirst();
  return row?.deployment_id;
}

/**
 * A stand-in for the sentinels of an environment: one HTTP server answering `/metrics` with the
 * counters the test sets for a deployment (Prometheus text, the edge's metric names), registered as
 * the `addresses` of a sentinel row in each region.
 */
export async function startMetricsSentinel(
  db: Db,
  env: { workspaceId: string; projectId: string; environmentId: string },
  regions: readonly string[],
) {
  const counters = new Map<string, { ok: number; errors: number }>();
  const server = http.createServer((req, res) => {
    if (req.url !== "/metrics" || req.headers["x-ctrl-deployment-id"]) return void res.writeHead(404).end();
    const lines: string[] = [];
    for (const [deploymentId, c] of counters) {
      lines.push(`ctrl_http_requests_total{deployment_id="${deploymentId}",status_class="2xx"} ${c.ok}`);
      lines.push(`ctrl_http_requests_total{deployment_id="${deploymentId}",status_class="5xx"} ${c.errors}`);
      const total = c.ok + c.errors;
      for (const le of ["0.005", "0.01", "0.025", "+Inf"]) {
        lines.push(`ctrl_http_request_duration_seconds_bucket{deployment_id="${deploymentId}",le="${le}"} ${le === "0.005" ? 0 : total}`);
      }
    }
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(`${lines.join("\n")}\n`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
  for (const region of regions) {
    const now = Date.now();
    await db
      .insertInto("sentinels")
      .values({
        id: newId("se"),
        workspace_id: env.workspaceId,
        project_id: env.projectId,
        environment_id: env.environmentId,
        region,
        k8s_name: `sentinel-${region}-${newId("se").toLowerCase().slice(-8)}`,
        image: "sentinel:test",
        desired_replicas: 1,
        desired_state: "running",
        cpu_millicores: 250,
        memory_mib: 256,
        health: "healthy",
        available_replicas: 1,
        running_image: "sentinel:test",
        addresses: JSON.stringify([address]),
        // Unique per region; far above what VersioningService allocates in these tests.
        version: 1_000_000 + Math.floor(Math.random() * 1_000_000_000),
        deploy_status: null,
        deploy_awakeable_id: null,
        deploy_image: null,
        failure_reason: null,
        failure_image: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }
  /** Traffic keeps flowing while the server runs: `errorShare` of every 20 requests answered 5xx. */
  const flows = new Map<string, NodeJS.Timeout>();
  return {
    address,
    flow(deploymentId: string, errorShare: number) {
      clearInterval(flows.get(deploymentId));
      const c = counters.get(deploymentId) ?? { ok: 0, errors: 0 };
      counters.set(deploymentId, c);
      flows.set(
        deploymentId,
        setInterval(() => {
          const errors = Math.round(20 * errorShare);
          c.errors += errors;
          c.ok += 20 - errors;
        }, 20),
      );
    },
    async close() {
      for (const t of flows.values()) clearInterval(t);
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
