/**
 * Benchmark: `POST /v2/deploy.generateUploadUrl` (root-key auth with a MariaDB lookup, project
 * lookup, permission check, S3 presign) against a bare fastify route returning a constant — the
 * ceiling of the HTTP stack on this machine — at 1, 16 and 64 connections, in the same run.
 * Both servers live in this process; autocannon runs as a child process.
 *
 *   pnpm bench upload-url          (BENCH_DURATION_SEC=5 by default)
 */
import { startTestStack } from "@ctrl/stack";
import Fastify from "fastify";
import { cpus, loadavg } from "node:os";
import { printTable, runLoad, type LoadResult } from "./lib/load.js";

const durationSec = Number(process.env.BENCH_DURATION_SEC ?? 5);
const connectionLevels = (process.env.BENCH_CONNECTIONS ?? "1,16,64").split(",").map(Number);

const stack = await startTestStack({ worker: false });
const bare = Fastify({ logger: false });
bare.post("/bare", async () => ({ meta: { requestId: "req_constant" }, data: { ok: true } }));
await bare.listen({ port: 0, host: "127.0.0.1" });
const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}/bare`;

const request = {
  method: "POST" as const,
  headers: { authorization: `Bearer ${stack.seed.rootKey}`, "content-type": "application/json" },
  body: JSON.stringify({ projectId: stack.seed.projectId }),
};
const oursUrl = `${stack.apiUrl}/v2/deploy.generateUploadUrl`;

try {
  // Sanity: the request we measure really succeeds (a 4xx would be fast and meaningless).
  const probe = await fetch(oursUrl, request);
  if (probe.status !== 200) throw new Error(`generateUploadUrl answered ${probe.status}: ${await probe.text()}`);

  // Warm up both (JIT, pools) so the first measured level is not penalised.
  await runLoad({ url: oursUrl, ...request, connections: 16, durationSec: 1 });
  await runLoad({ url: bareUrl, ...request, connections: 16, durationSec: 1 });

  // Each generateUploadUrl does two MySQL round trips (root key, project); on a busy machine they
  // dominate, so print what one costs right now next to the figures.
  const rttStart = performance.now();
  for (let i = 0; i < 200; i++) await stack.deps.db.selectFrom("workspaces").select("id").limit(1).execute();
  const mysqlRttMs = (performance.now() - rttStart) / 200;

  const rows: (string | number)[][] = [];
  for (const connections of connectionLevels) {
    const ours = await runLoad({ url: oursUrl, ...request, connections, durationSec });
    const ceiling = await runLoad({ url: bareUrl, ...request, connections, durationSec });
    if (ours.failures || ceiling.failures)
      console.warn(
        `WARNING: ${ours.failures} + ${ceiling.failures} failed requests at ${connections} connections: those figures are not valid`,
      );
    const fmt = (r: LoadResult, name: string) => [
      name,
      connections,
      r.requestsPerSec.toFixed(0),
      r.mean.toFixed(2),
      r.p50.toFixed(0),
      r.p99.toFixed(0),
      r.total,
      r.failures,
    ];
    rows.push(fmt(ours, "generateUploadUrl"), fmt(ceiling, "bare fastify"));
    // autocannon's latency resolution is 1 ms: a ratio against a sub-millisecond ceiling means nothing.
    const latencyRatio = (a: number, b: number) => (b >= 1 ? (a / b).toFixed(1) : "n/a");
    rows.push([
      "  ratio ours/bare",
      connections,
      (ours.requestsPerSec / ceiling.requestsPerSec).toFixed(3),
      (ours.mean / ceiling.mean).toFixed(1),
      latencyRatio(ours.p50, ceiling.p50),
      latencyRatio(ours.p99, ceiling.p99),
      "",
      "",
    ]);
  }
  console.log(`\ngenerateUploadUrl vs bare fastify, ${durationSec} s per run, autocannon in a child process`);
  console.log("latency in ms; autocannon's percentiles are whole ms (n/a: ratio to a sub-ms ceiling), its mean is exact\n");
  printTable(["target", "conns", "req/s", "mean", "p50", "p99", "requests", "failures"], rows);
  console.log(
    `\nMySQL round trip (one-row SELECT, sequential) before the runs: ${mysqlRttMs.toFixed(2)} ms mean; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
} finally {
  await bare.close();
  await stack.close();
}
