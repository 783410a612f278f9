/**
 * Benchmark: overhead of a fleet rollout. 200 sentinels (2 regions × 100) with an in-process fake
 * agent per region that streams WatchSentinels and reports every applied image healthy at once
 * (through the real ReportSentinelStatus, which resolves the deploy's awakeable). Measured in the
 * same run:
 *   1. the bare round trip of `SentinelService.deploy` for each sentinel, one at a time (called
 *      from a probe service inside Restate, since SentinelService is ingress-private) — the floor;
 *   2. a rollout with the default waves and concurrency 10: the duration of each wave and in total,
 *      next to the sum of the bare round trips of its sentinels and that sum divided by the
 *      concurrency (the ideal parallel time). The difference is the rollout's own overhead
 *      (state transitions, mirror writes, result messages, webhooks off).
 *
 *   pnpm bench fleet-rollout    BENCH_SENTINELS (200), BENCH_CONCURRENCY (10)
 */
// The Restate SDK reads RESTATE_LOGGING once, when it loads (ESM imports are hoisted: the hosted
// endpoint below loads it), so it is set by bench/run.ts or the environment; default quiet here too.
import { registerDeployment, waitFor } from "@ctrl/testing";
import {
  fleetClient,
  insertSentinelFleet,
  operatorAuth,
  startFakeSentinelAgents,
  startSentinelDeployProbe,
  startTestStack,
} from "@ctrl/stack";
import { printTable } from "./lib/load.js";

const total = Number(process.env.BENCH_SENTINELS ?? 200);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 10);
const regions = ["bench-a", "bench-b"];
const image = (v: string) => `registry.test/ctrl/sentinel:${v}`;

const stack = await startTestStack();
const probe = await startSentinelDeployProbe();
await registerDeployment(stack.restate.adminUrl, probe.url);
const db = stack.deps.db;
const auth = () => operatorAuth(stack);
const fleet = fleetClient(stack);
const ids = await insertSentinelFleet(db, stack.seed, total, regions, image("v1"), "se_bench");
const agents = startFakeSentinelAgents(stack, regions);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

try {
  await waitFor(
    "every sentinel healthy on v1",
    async () =>
      (await db.selectFrom("sentinels").select("id").where("running_image", "=", image("v1")).where("health", "=", "healthy").execute())
        .length === total,
    { timeoutMs: 120_000, intervalMs: 100 },
  );

  // 1. Bare round trips, one at a time (v1 → v2), through the probe.
  const bare = new Map<string, number>();
  for (const id of ids) {
    const started = performance.now();
    const res = await fetch(`${stack.restate.ingressUrl}/FleetBenchProbe/deploy`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sentinelId: id, image: image("v2") }),
    });
    const body = (await res.json()) as { ok: boolean; reason?: string };
    if (!res.ok || !body.ok) throw new Error(`bare deploy of ${id} failed: ${res.status} ${JSON.stringify(body)}`);
    bare.set(id, performance.now() - started);
  }
  const bareSorted = [...bare.values()].sort((a, b) => a - b);

  // 2. The rollout (v2 → v3), default waves.
  const t0 = Date.now();
  const { rollout } = await fleet.rollout({ image: image("v3"), concurrency }, auth());
  const done = await waitFor(
    "the rollout to complete",
    async () => {
      const r = (await fleet.getRollout({ rolloutId: rollout!.id }, auth())).rollout!;
      if (r.state === "paused")
        throw new Error(
          `paused: ${r.targets
            .filter((t) => t.outcome === "failed")
            .map((t) => `${t.sentinelId} ${t.reason}`)
            .slice(0, 5)
            .join("; ")}`,
        );
      return r.state === "completed" ? r : undefined;
    },
    { timeoutMs: 600_000, intervalMs: 50 },
  );
  const totalMs = Number(done.finishedAt) - Number(done.startedAt);
  const rows: (string | number)[][] = [];
  let sumAll = 0;
  for (const w of done.waves) {
    if (w.size === 0) {
      rows.push([w.index + 1, `${w.percent}%`, 0, "-", "-", "-", "skipped"]);
      continue;
    }
    const members = done.targets.filter((t) => t.wave === w.index).map((t) => bare.get(t.sentinelId)!);
    const sum = members.reduce((a, b) => a + b, 0);
    sumAll += sum;
    const ideal = sum / Math.min(concurrency, members.length);
    const ms = Number(w.endedAt) - Number(w.startedAt);
    rows.push([
      w.index + 1,
      `${w.percent}%`,
      w.size,
      ms,
      Math.round(sum),
      Math.round(ideal),
      `${(ms - ideal).toFixed(0)} ms (${(ms / ideal).toFixed(2)}×)`,
    ]);
  }
  console.log(
    `\nfleet rollout overhead: ${total} sentinels in ${regions.length} regions, fake agents acknowledging at once, concurrency ${concurrency}`,
  );
  console.log(
    `bare SentinelService.deploy round trip (one at a time, via a probe service): p50 ${percentile(bareSorted, 50).toFixed(1)} ms, p99 ${percentile(bareSorted, 99).toFixed(1)} ms, sum ${Math.round(sumAll)} ms\n`,
  );
  printTable(["wave", "percent", "sentinels", "wave ms", "sum of bare ms", "ideal ms (sum/conc.)", "overhead"], rows);
  const ideal = sumAll / concurrency;
  console.log(
    `\ntotal: ${totalMs} ms rollout (start → completed; ${Date.now() - t0} ms client-observed) vs ${Math.round(sumAll)} ms sum of bare deploys (${(totalMs / sumAll).toFixed(2)}×) and ${Math.round(ideal)} ms ideal at concurrency ${concurrency} (${(totalMs / ideal).toFixed(2)}×)`,
  );
} finally {
  await agents.stop();
  await probe.close();
  await stack.close();
}
process.exit(0);
