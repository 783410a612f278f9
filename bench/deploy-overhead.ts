/**
 * Benchmark: control-plane overhead of a deploy. `DeploymentService.CreateDeployment` (image) →
 * the worker's DeployWorkflow (metadata, topology through VersioningService, readiness, domains,
 * cutover) → `ready`, with an in-process fake agent that streams WatchDeployments and reports every
 * replica RUNNING as soon as it sees the topology. At 1 and 20 concurrent deploys: p50/p99 latency
 * (request sent → the row's `ready` timestamp) and deploys/s.
 *
 * The readiness wait polls the database every `readinessPollMs` (a durable sleep between checks),
 * so a deploy cannot be ready before its first recheck: that interval is printed as the floor.
 *
 *   pnpm bench deploy-overhead    BENCH_DEPLOYS (20 per level), BENCH_CONCURRENCY (1,20), BENCH_READINESS_POLL_MS (100)
 */
import { waitFor } from "@ctrl/testing";
import { bearer, clients, createWorkspace, FakeAgent, runningOnSight, startDeployStack } from "@ctrl/stack";
import { printTable } from "./lib/load.js";

const perLevel = Number(process.env.BENCH_DEPLOYS ?? 20);
const levels = (process.env.BENCH_CONCURRENCY ?? "1,20").split(",").map(Number);
const readinessPollMs = Number(process.env.BENCH_READINESS_POLL_MS ?? 100);
const region = "bench";

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

const stack = await startDeployStack({
  regions: [region],
  readinessPollMs,
  readinessTimeoutMs: 120_000,
  openapiTimeoutMs: 200,
  apexDomain: "bench.test",
});
const agent = new FakeAgent(stack, region, runningOnSight).start();
const db = stack.deps.db;
const projects = await Promise.all(Array.from({ length: 20 }, () => createWorkspace(db)));
const { deployments } = clients(stack);

/** One deploy: returns ms from request to the `ready` status write (the row's updated_at). */
async function deployOnce(i: number): Promise<number> {
  const project = projects[i % projects.length]!;
  const started = Date.now();
  const { deploymentId } = await deployments.createDeployment(
    {
      projectId: project.projectId,
      environmentSlug: i % 2 ? "preview" : "production",
      branch: `bench-${i}`,
      source: { case: "dockerImage", value: "registry.test/app:1" },
    },
    bearer(stack.operatorToken),
  );
  const row = await waitFor(
    `deployment ${deploymentId} ready`,
    async () => {
      const r = await db
        .selectFrom("deployments")
        .select(["status", "updated_at", "error_message"])
        .where("id", "=", deploymentId)
        .executeTakeFirstOrThrow();
      if (r.status === "failed") throw new Error(`deploy failed: ${r.error_message}`);
      return r.status === "ready" ? r : undefined;
    },
    // Latency comes from the row's own timestamp; the poll only delays the next sequential deploy (deploys/s at 1).
    { timeoutMs: 120_000, intervalMs: 50 },
  );
  return Number(row.updated_at) - started;
}

try {
  // Warm-up: JIT, pools, restate partitions.
  await Promise.all(Array.from({ length: 4 }, (_, i) => deployOnce(1000 + i)));
  const rows: (string | number)[][] = [];
  let n = 0;
  for (const concurrency of levels) {
    const latencies: number[] = [];
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < perLevel) {
          next++;
          latencies.push(await deployOnce(n++));
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const s = [...latencies].sort((a, b) => a - b);
    rows.push([concurrency, s.length, percentile(s, 50), percentile(s, 99), s[s.length - 1]!, (s.length / seconds).toFixed(2)]);
  }
  console.log(
    `\ndeploy overhead: CreateDeployment → ready, fake agent reporting RUNNING on sight, 1 region, ${perLevel} deploys per level`,
  );
  console.log(`floor: the readiness recheck interval, ${readinessPollMs} ms (a deploy is ready at its first recheck after the report)\n`);
  printTable(["concurrent", "deploys", "p50 ms", "p99 ms", "max ms", "deploys/s"], rows);
} finally {
  await agent.stop();
  await stack.close();
}
process.exit(0);
