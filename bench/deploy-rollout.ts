/**
 * Benchmark: the cost of the rollout machinery (issue 13). The real DeployWorkflow against MariaDB
 * and restate-server, 3 regions, in-process simulated agents reporting RUNNING as soon as they see a
 * topology row (polling every 5 ms), analysis off:
 *
 * 1. a deploy without a policy (one switch after all regions are ready) next to the same deploy with
 *    `rolling`, parallelism 1 (3 batches, each started, ready and cut over through its region split),
 *    interleaved in the same run: submit → workflow result, median and p99, the ratio, and the
 *    overhead per batch ((rolling − plain) / 3 at the median);
 * 2. an analysis breach: a canary at 20 % in region 1 with analysis every `BENCH_ANALYSIS_INTERVAL_MS`,
 *    a stand-in sentinel `/metrics` switching the canary to 50 % 5xx; breach → no split left (the
 *    previous deployment serves all traffic again), median and p99, next to the interval (the floor is
 *    up to one interval plus a scrape).
 *
 *   pnpm bench deploy-rollout    BENCH_ROLLOUTS (10 of each), BENCH_BREACHES (5), BENCH_ANALYSIS_INTERVAL_MS (200), BENCH_READINESS_POLL_MS (20)
 */
import { waitFor } from "@ctrl/testing";
import { attachDeploy, startDeployStack } from "../apps/ctrl-worker/test/deploy-harness.js";
import {
  deployWithPolicy,
  projectWithPrevious,
  registerAgents,
  rolloutRegions,
  startAgents,
  startMetricsSentinel,
} from "../apps/ctrl-worker/test/rollout-harness.js";
import { printTable } from "./lib/load.js";

const rollouts = Number(process.env.BENCH_ROLLOUTS ?? 10);
const breaches = Number(process.env.BENCH_BREACHES ?? 5);
const intervalMs = Number(process.env.BENCH_ANALYSIS_INTERVAL_MS ?? 200);
const readinessPollMs = Number(process.env.BENCH_READINESS_POLL_MS ?? 20);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const p99 = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    99,
  );

const stack = await startDeployStack({
  regions: rolloutRegions,
  apexDomain: "bench.test",
  readinessTimeoutMs: 60_000,
  readinessPollMs,
  openapiTimeoutMs: 100,
  rolloutControlPollMs: 50,
});
await registerAgents(stack.db, rolloutRegions);

/** Submit → the workflow's result, with agents answering at once; fails the bench on anything but `ready`. */
async function timedDeploy(where: { projectId: string; environmentId: string }, policy: Record<string, unknown> | null): Promise<number> {
  const started = performance.now();
  const id = await deployWithPolicy(stack, where, policy);
  const agents = startAgents(stack.db, id, {}, 5);
  const result = await attachDeploy(stack.rs, id);
  const ms = performance.now() - started;
  await agents.stop();
  if (result.status !== "ready") throw new Error(`deploy ${id} ended ${result.status}: ${result.errorMessage}`);
  return ms;
}

try {
  const p = await projectWithPrevious(stack, "bench-rollout");
  // Warm-up: JIT, pools, restate partitions.
  await timedDeploy(p, null);
  await timedDeploy(p, { strategy: "rolling" });

  const plain: number[] = [];
  const rolling: number[] = [];
  for (let i = 0; i < rollouts; i++) {
    plain.push(await timedDeploy(p, null));
    rolling.push(await timedDeploy(p, { strategy: "rolling", parallelism: 1 }));
  }
  const perBatch = (median(rolling) - median(plain)) / rolloutRegions.length;
  console.log(
    `\nrollout overhead: submit → ready, ${rolloutRegions.length} regions, agents answering at once, analysis off, ${rollouts} of each (interleaved)`,
  );
  console.log(`readiness recheck interval ${readinessPollMs} ms (each batch waits at least one recheck)\n`);
  printTable(
    ["deploy", "runs", "median ms", "p99 ms", "ratio (median)"],
    [
      ["no policy (one switch)", plain.length, Math.round(median(plain)), Math.round(p99(plain)), "1.00"],
      [
        "rolling, parallelism 1",
        rolling.length,
        Math.round(median(rolling)),
        Math.round(p99(rolling)),
        (median(rolling) / median(plain)).toFixed(2),
      ],
    ],
  );
  console.log(`\noverhead per batch (median): ${Math.round(perBatch)} ms`);

  const sentinel = await startMetricsSentinel(stack.db, { workspaceId: stack.seed.workspaceId, ...p }, rolloutRegions);
  const toServing: number[] = [];
  try {
    for (let i = 0; i < breaches; i++) {
      const id = await deployWithPolicy(stack, p, {
        strategy: "canary",
        canary_steps: [{ weight: 20, pause: "5m" }],
        analysis: { interval: `${intervalMs}ms`, window: `${intervalMs}ms`, max_error_rate: 0.05, min_requests: 10 },
      });
      sentinel.flow(id, 0);
      const agents = startAgents(stack.db, id, {}, 5);
      await waitFor(
        "the canary at 20 % in r1",
        async () =>
          (
            await stack.db
              .selectFrom("region_traffic_splits")
              .select("canary_weight")
              .where("canary_deployment_id", "=", id)
              .where("region", "=", "r1")
              .executeTakeFirst()
          )?.canary_weight === 20,
        { timeoutMs: 60_000, intervalMs: 5 },
      );
      const breach = performance.now();
      sentinel.flow(id, 0.5);
      await waitFor(
        "every region back on the previous deployment",
        async () =>
          (await stack.db.selectFrom("region_traffic_splits").select("region").where("environment_id", "=", p.environmentId).execute())
            .length === 0,
        { timeoutMs: 60_000, intervalMs: 2 },
      );
      toServing.push(performance.now() - breach);
      const result = await attachDeploy(stack.rs, id);
      await agents.stop();
      if (result.reason !== "analysis_failed") throw new Error(`breach run ended ${result.status} ${result.reason}`);
    }
  } finally {
    await sentinel.close();
  }
  console.log(
    `\nanalysis breach → previous deployment serving all traffic (no split left), analysis interval ${intervalMs} ms, ${breaches} runs\n`,
  );
  printTable(
    ["runs", "median ms", "p99 ms", "interval ms", "median / interval"],
    [
      [
        toServing.length,
        Math.round(median(toServing)),
        Math.round(p99(toServing)),
        intervalMs,
        (median(toServing) / intervalMs).toFixed(2),
      ],
    ],
  );
} finally {
  await stack.close();
}
process.exit(0);
