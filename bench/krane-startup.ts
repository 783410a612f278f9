/**
 * Benchmark (issue 4): the krane agent with the process driver, as a real child process against
 * the real control plane.
 *
 * 1. Startup: time from the topology commit (VersioningService.commitTopology of a 5-replica
 *    `examples/hello` deployment, a fresh artifact each run so the download is real) to the first
 *    instance `running` and to all 5, split into phases from the agent's own log timestamps:
 *    notify (commit → apply), download, unpack, start (pulled → first spawn), health (first spawn →
 *    first 200). pull = apply → artifact ready (download and unpack are its measured parts; the rest
 *    is the S3 round trip, manifest checks and the rename). Ceiling: a bare `node server.js`
 *    spawned here until its /health answers 200, in the same run; ratio = (start + health) / bare.
 *    Every run is done twice, alternately: by an agent with the bubblewrap sandbox (the default)
 *    and by one with KRANE_SANDBOX=none (its own region), so the sandbox's cost shows in the same run.
 * 2. Idle: agent CPU (% of one core) and RSS while it supervises 50 running (sandboxed) instances.
 *
 *   pnpm bench krane-startup    BENCH_RUNS (5), BENCH_IDLE_INSTANCES (50), BENCH_IDLE_SECONDS (10), KRANE_HEALTH_INTERVAL_MS (50)
 */
import { exposeServicesForTest, freePort, startProcess, waitFor } from "@ctrl/testing";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { versioningServiceName, type VersioningServiceApi } from "@ctrl/ctrl-worker/api";
import { helloDir, pushArtifact, startAgent, startTestStack } from "@ctrl/stack";
import { printTable } from "./lib/load.js";

const runs = Number(process.env.BENCH_RUNS ?? 5);
const idleInstances = Number(process.env.BENCH_IDLE_INSTANCES ?? 50);
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
const healthIntervalMs = process.env.KRANE_HEALTH_INTERVAL_MS ?? "50";
const region = "local";
const bareRegion = "nosandbox";
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const median = (xs: number[]) =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );

const stack = await startTestStack();
// VersioningService is ingress-private; the bench commits topology through it directly.
await exposeServicesForTest(stack.restate.adminUrl, ["VersioningService"]);
const dataDir = await mkdtemp(join(tmpdir(), "krane-bench-"));
const work = await mkdtemp(join(tmpdir(), "krane-bench-src-"));
const portBase = 50_000;
const bareDataDir = await mkdtemp(join(tmpdir(), "krane-bench-bare-"));
const agentEnv = {
  LOG_LEVEL: "info",
  KRANE_HEALTH_INTERVAL_MS: healthIntervalMs,
  KRANE_STOP_INSTANCES_ON_EXIT: "true",
  KRANE_STOP_GRACE_MS: "2000",
  KRANE_RESYNC_INTERVAL_MS: "60000",
};
const agent = await startAgent({
  apiUrl: stack.apiUrl,
  token: await stack.agentToken(region, { ports: { low: portBase, high: portBase + 999 } }),
  region,
  dataDir,
  portRange: `${portBase}-${portBase + 999}`,
  s3: stack.s3,
  env: agentEnv,
});
const bareAgent = await startAgent({
  apiUrl: stack.apiUrl,
  token: await stack.agentToken(bareRegion, { ports: { low: portBase + 1000, high: portBase + 1099 } }),
  region: bareRegion,
  dataDir: bareDataDir,
  portRange: `${portBase + 1000}-${portBase + 1099}`,
  s3: stack.s3,
  env: { ...agentEnv, KRANE_SANDBOX: "none" },
});
const db = stack.database.db;
const versioningOf = (r: string) => stack.deps.restate.objectClient<VersioningServiceApi>({ name: versioningServiceName }, r);
const versioning = versioningOf(region);

/** A deployment row the agent can run (the workflow is bypassed: this measures the agent path only). */
async function insertDeployment(id: string, image: string, replicas: number): Promise<void> {
  const now = Date.now();
  await db
    .insertInto("deployments")
    .values({
      id,
      workspace_id: stack.seed.workspaceId,
      project_id: stack.seed.projectId,
      environment_id: stack.seed.environments.production,
      source_type: "image",
      build_context_path: null,
      dockerfile_path: null,
      image,
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
      failure_reason: null,
      openapi_spec: null,
      cpu_millicores: 100,
      memory_mib: 128,
      replicas,
      port: 8080,
      health_check_path: "/health",
      created_at: now,
      updated_at: now,
    })
    .execute();
}

const logTimeOf = (a: typeof agent, msg: string, workload: string) =>
  a.lines
    .filter((l) => l.msg === msg && l.workload === workload)
    .map((l) => l.time as number)
    .sort((x, y) => x - y);
const logTime = (msg: string, workload: string) =>
  agent.lines
    .filter((l) => l.msg === msg && l.workload === workload)
    .map((l) => l.time as number)
    .sort((a, b) => a - b);

/** Bare spawn → /health 200 of the same app, no agent: the floor of start + health. */
async function bareStartMs(): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = startProcess("bare-hello", process.execPath, ["server.js"], {
    cwd: helloDir,
    env: { PATH: process.env.PATH ?? "", PORT: String(port) },
  });
  await waitFor(
    "bare hello",
    async () =>
      (await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.status,
        () => 0,
      )) === 200,
    { intervalMs: 5 },
  );
  const ms = performance.now() - t0;
  await proc.stop();
  return ms;
}

try {
  const rows: (string | number)[][] = [];
  const firsts: number[] = [];
  const alls: number[] = [];
  const ratios: number[] = [];
  const bySandbox = { bwrap: [] as number[], none: [] as number[] };
  for (let i = 0; i < runs; i++) {
    for (const sandbox of ["bwrap", "none"] as const) {
      const a = sandbox === "bwrap" ? agent : bareAgent;
      const v = versioningOf(sandbox === "bwrap" ? region : bareRegion);
      // A fresh artifact per run (a different digest), so every run downloads and unpacks.
      const src = join(work, `hello-${i}-${sandbox}`);
      await cp(helloDir, src, { recursive: true });
      await writeFile(join(src, "run.txt"), `run ${i} ${sandbox} ${Date.now()}`);
      const image = await pushArtifact(stack.storage, src, `bench-${i}-${sandbox}`);
      const id = `d_bench${i}${sandbox}x${Date.now().toString(36)}`;
      await insertDeployment(id, image, 5);
      const t0 = Date.now();
      await v.commitTopology({ workspaceId: stack.seed.workspaceId, deploymentId: id, desiredReplicas: 5, desiredStatus: "running" });
      await waitFor(`5 healthy instances of ${id}`, () => logTimeOf(a, "instance healthy", id).length >= 5, {
        timeoutMs: 60_000,
        intervalMs: 5,
      });
      const apply = a.lines.find((l) => l.msg === "apply deployment" && l.deploymentId === id)!.time as number;
      const pulled = a.lines.find((l) => l.msg === "artifact pulled" && l.workload === id)!;
      const started = logTimeOf(a, "instance started", id);
      const healthy = logTimeOf(a, "instance healthy", id);
      const download = pulled.downloadMs as number;
      const unpack = pulled.unpackMs as number;
      const pull = (pulled.time as number) - apply;
      const start = Math.max(0, started[0]! - (pulled.time as number));
      const health = healthy[0]! - started[0]!;
      const first = healthy[0]! - t0;
      const all = healthy[4]! - t0;
      const bare = await bareStartMs();
      if (sandbox === "bwrap") {
        firsts.push(first);
        alls.push(all);
        ratios.push((start + health) / bare);
      }
      bySandbox[sandbox].push(health);
      rows.push([
        i + 1,
        sandbox,
        apply - t0,
        pull,
        download,
        unpack,
        start,
        health,
        first,
        all,
        Math.round(bare),
        ((start + health) / bare).toFixed(2),
      ]);
      await v.commitTopology({ workspaceId: stack.seed.workspaceId, deploymentId: id, desiredReplicas: 0, desiredStatus: "stopped" });
    }
  }
  console.log(`\nkrane startup: topology commit → instances running (examples/hello, 5 replicas, health poll ${healthIntervalMs} ms), ms`);
  printTable(
    [
      "run",
      "sandbox",
      "notify",
      "pull",
      "(download",
      "unpack)",
      "start",
      "health",
      "first running",
      "all 5 running",
      "bare node→200",
      "ratio",
    ],
    rows,
  );
  const sf = [...firsts].sort((a, b) => a - b);
  const sa = [...alls].sort((a, b) => a - b);
  console.log(
    `first running: p50 ${pct(sf, 50)} ms, p99 ${pct(sf, 99)} ms; all 5: p50 ${pct(sa, 50)} ms, p99 ${pct(sa, 99)} ms; throughput ${(5000 / median(alls)).toFixed(1)} instances/s; agent start+health vs bare node→200: ${median(ratios).toFixed(2)}×`,
  );
  console.log(
    `sandbox cost: first instance spawn → healthy p50 ${median(bySandbox.bwrap)} ms with bubblewrap vs ${median(bySandbox.none)} ms with KRANE_SANDBOX=none (+${median(bySandbox.bwrap) - median(bySandbox.none)} ms)`,
  );

  // Idle cost with many instances.
  await waitFor("previous runs stopped", async () => (await agent.status()).workloads.every((w) => w.instances.length === 0), {
    timeoutMs: 60_000,
  });
  const image = await pushArtifact(stack.storage, helloDir, "bench-idle");
  const idleId = `d_benchidle${Date.now().toString(36)}`;
  await insertDeployment(idleId, image, idleInstances);
  const t0 = Date.now();
  await versioning.commitTopology({
    workspaceId: stack.seed.workspaceId,
    deploymentId: idleId,
    desiredReplicas: idleInstances,
    desiredStatus: "running",
  });
  await waitFor(`${idleInstances} running`, () => logTime("instance healthy", idleId).length >= idleInstances, {
    timeoutMs: 180_000,
    intervalMs: 50,
  }).catch(async (err: unknown) => {
    const w = (await agent.status()).workloads.find((x) => x.name === idleId);
    const phases = (w?.instances ?? []).reduce<Record<string, number>>((acc, i) => ({ ...acc, [i.phase]: (acc[i.phase] ?? 0) + 1 }), {});
    throw new Error(`${(err as Error).message}; instances by phase: ${JSON.stringify(phases)}; last agent lines:\n${agent.proc.tail(15)}`);
  });
  const allUp = Date.now() - t0;
  const pid = agent.proc.child.pid!;
  const ticks = async () => {
    const stat = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
    return Number(stat[11]) + Number(stat[12]); // utime + stime, in clock ticks (100/s)
  };
  const rss = async () => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
  // Let the start-up burst settle, then measure a quiet window.
  await new Promise((r) => setTimeout(r, 3_000));
  const before = await ticks();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const cpuPct = (((await ticks()) - before) / 100 / ((performance.now() - w0) / 1000)) * 100;
  console.log(
    `\nkrane idle with ${idleInstances} running instances (all up ${allUp} ms after the commit): agent CPU ${cpuPct.toFixed(2)}% of one core over ${idleSeconds} s, RSS ${(await rss()).toFixed(0)} MiB`,
  );
} finally {
  await agent.proc.stop(20_000);
  await bareAgent.proc.stop(20_000);
  await rm(bareDataDir, { recursive: true, force: true });
  await stack.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
}
process.exit(0);
