/**
 * Benchmark: watch propagation. 100 agents stream `ClusterService.WatchDeployments` of one region
 * (Connect over HTTP/1.1, each its own connection); topology changes are committed the way the
 * worker commits them (`commitTopologyChange`: version allocation and row in one transaction), and
 * we time from the commit returning to the change's arrival at each watcher: p50, p99, max.
 *
 * Reference figures measured in the same run: the poll interval (the expected mean wait is half of
 * it) and the latency of the poll query itself — propagation ≈ interval/2 + query + delivery.
 * One poll query per region per tick serves all 100 watchers (watch/region-hub.ts).
 *
 *   pnpm bench watch-propagation    BENCH_WATCHERS (100), BENCH_CHANGES (100), BENCH_POLL_MS (50)
 */
import { listTopologyAfter, newId } from "@ctrl/db";
import { commitTopologyChange } from "../apps/ctrl-worker/src/services/versioning-service/commit.js";
import { bearer, clients, createWorkspace, startTestStack } from "@ctrl/stack";
import { waitFor } from "@ctrl/testing";
import { printTable } from "./lib/load.js";

const watcherCount = Number(process.env.BENCH_WATCHERS ?? 100);
const changes = Number(process.env.BENCH_CHANGES ?? 100);
const pollMs = Number(process.env.BENCH_POLL_MS ?? 50);
const region = "bench";

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const stats = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s[s.length - 1]!,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
};

const stack = await startTestStack({ worker: false });
// The server reads the poll interval from deps at first use of the feeds: set it before any watch.
stack.deps.clusterWatchPollMs = pollMs;
const db = stack.deps.db;
const ws = await createWorkspace(db);
try {
  const now = Date.now();
  const deploymentIds = Array.from({ length: changes }, () => newId("d"));
  await db
    .insertInto("deployments")
    .values(
      deploymentIds.map((id) => ({
        id,
        workspace_id: ws.workspaceId,
        project_id: ws.projectId,
        environment_id: ws.environments.preview,
        source_type: "image" as const,
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
        status: "deploying" as const,
        error_message: null,
        failed_step: null,
        openapi_spec: null,
        cpu_millicores: 250,
        memory_mib: 256,
        replicas: 1,
        port: 8080,
        health_check_path: "/health",
        created_at: now,
        updated_at: now,
      })),
    )
    .execute();

  // version → arrival times (ms, performance.now) across watchers
  const arrivals = new Map<number, number[]>();
  const abort = new AbortController();
  const { cluster } = clients(stack);
  const agentToken = await stack.agentToken(region);
  let connected = 0;
  const streams = Array.from({ length: watcherCount }, async () => {
    try {
      const stream = cluster.watchDeployments({ region, versionLastSeen: 0n }, { ...bearer(agentToken), signal: abort.signal });
      connected++;
      for await (const s of stream) {
        const t = performance.now();
        const v = Number(s.version);
        const list = arrivals.get(v) ?? [];
        if (list.length === 0) arrivals.set(v, list);
        list.push(t);
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
  });
  await waitFor("watchers to connect", () => connected === watcherCount);
  // Give every stream its snapshot (empty) and the poller time to start.
  await new Promise((r) => setTimeout(r, 500));

  const latencies: number[] = [];
  const perChangeMax: number[] = [];
  for (const [i, deploymentId] of deploymentIds.entries()) {
    const result = await commitTopologyChange(
      db,
      region,
      { workspaceId: ws.workspaceId, deploymentId, desiredReplicas: 1, desiredStatus: "running" },
      0,
      Date.now(),
    );
    const committedAt = performance.now();
    await waitFor(`change ${i} at every watcher`, () => (arrivals.get(result.version)?.length ?? 0) >= watcherCount, {
      timeoutMs: 10_000,
      intervalMs: 1,
    });
    const times = arrivals.get(result.version)!.map((t) => t - committedAt);
    latencies.push(...times);
    perChangeMax.push(Math.max(...times));
    // Spread commits over the poll phase so the figures are not locked to one point of the tick.
    await new Promise((r) => setTimeout(r, Math.random() * pollMs));
  }

  // The poll query on its own, same data, same run.
  const queryTimes: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await listTopologyAfter(db, region, Math.floor(Math.random() * changes), 500);
    queryTimes.push(performance.now() - t);
  }
  abort.abort();
  await Promise.allSettled(streams);

  const all = stats(latencies);
  const worst = stats(perChangeMax);
  const query = stats(queryTimes);
  console.log(`\nwatch propagation: ${watcherCount} watchers (Connect, HTTP/1.1), ${changes} commits, poll interval ${pollMs} ms`);
  console.log("commit returned → message arrived at a watcher, ms\n");
  printTable(
    ["measure", "n", "p50", "p99", "max", "mean"],
    [
      ["arrival at each watcher", all.n, all.p50.toFixed(1), all.p99.toFixed(1), all.max.toFixed(1), all.mean.toFixed(1)],
      ["last watcher of a change", worst.n, worst.p50.toFixed(1), worst.p99.toFixed(1), worst.max.toFixed(1), worst.mean.toFixed(1)],
      ["poll query alone", query.n, query.p50.toFixed(2), query.p99.toFixed(2), query.max.toFixed(2), query.mean.toFixed(2)],
      ["floor: interval/2 + query (mean)", "", "", "", "", (pollMs / 2 + query.mean).toFixed(1)],
    ],
  );
  console.log(`\nratio mean arrival / floor: ${(all.mean / (pollMs / 2 + query.mean)).toFixed(2)}`);
} finally {
  await stack.close();
}
process.exit(0);
