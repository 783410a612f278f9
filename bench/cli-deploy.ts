/**
 * Benchmark: `ctrl deploy examples/hello` (the CLI binary as a child process) to the first
 * successful response from the new deployment through frontline, against the real system
 * (packages/stack/src/system.ts: ctrl-api, worker process with the local builder, restate-server,
 * MariaDB, s3rver, krane agent, frontline). p50 and max of `BENCH_RUNS` runs, broken down by phase:
 *
 *   cli+create  CLI start (tsx), git metadata, createDeployment, the workflow picking it up
 *   pack        packing the directory (CLI)            upload   presigned PUT (CLI)
 *   build       the workflow's `build` step (BuildService: fetch, extract, install, compile, pack, upload)
 *   start       topology committed → the agent's first instance report (download, unpack, spawn)
 *   health      first instance report → readiness step done (includes the worker's readiness recheck interval)
 *   cutover     readiness done → cutover step done (openapi scrape, domains, route switch)
 *   routed      cutover done → first response from the new deployment through frontline
 *
 * Uncached runs deploy a copy of examples/hello with a unique file (new context digest, full build);
 * cached runs deploy examples/hello itself after a warm-up (the artifact is reused).
 *
 *   pnpm bench cli-deploy      BENCH_RUNS (5), BENCH_READINESS_POLL_MS (200)
 */
import { cp, mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { repo, startSystem } from "@ctrl/stack";
import { printTable } from "./lib/load.js";

const runs = Number(process.env.BENCH_RUNS ?? 5);
const readinessPollMs = Number(process.env.BENCH_READINESS_POLL_MS ?? 200);
const phases = ["cli+create", "pack", "upload", "build", "start", "health", "cutover", "routed", "total"] as const;
type Phase = (typeof phases)[number];

const sys = await startSystem({ readinessPollMs });
const db = sys.stack.database.db;
const projectId = sys.stack.seed.projectId;

async function deployOnce(dir: string): Promise<Record<Phase, number>> {
  const t0 = Date.now();
  const run = await sys.ctrl(["deploy", dir, "--project", projectId, "--env", "production", "--json"]);
  if (run.code !== 0) throw new Error(`ctrl deploy failed (${run.code}):\n${run.stdout}\n${run.stderr}`);
  const out = run.json();
  const id = out.deploymentId as string;
  const host = (out.hostnames as string[]).find((h) => h.includes("-production-"));
  if (!host) throw new Error(`no production hostname in ${JSON.stringify(out.hostnames)}`);
  await sys.waitServes(host, id, 60_000);
  const tFirst = Date.now();

  const steps = new Map(
    (await db.selectFrom("deployment_steps").selectAll().where("deployment_id", "=", id).execute()).map((s) => [s.step, s]),
  );
  const firstInstance = await db
    .selectFrom("instances")
    .select((eb) => eb.fn.min("created_at").as("t"))
    .where("deployment_id", "=", id)
    .executeTakeFirst();
  const at = (step: string, edge: "started_at" | "ended_at") => {
    const row = steps.get(step);
    if (!row || row[edge] === null) throw new Error(`deployment ${id} has no ${edge} for step ${step}`);
    return Number(row[edge]);
  };
  const buildStart = at("build", "started_at");
  const buildEnd = at("build", "ended_at");
  const topologyEnd = at("topology", "ended_at");
  const readinessEnd = at("readiness", "ended_at");
  const cutoverEnd = at("cutover", "ended_at");
  const instanceAt = Number(firstInstance?.t ?? readinessEnd);
  const pack = Number(out.timings.packMs ?? 0);
  const upload = Number(out.timings.uploadMs ?? 0);
  const total = tFirst - t0;
  const result: Record<Phase, number> = {
    "cli+create": 0,
    pack,
    upload,
    build: buildEnd - buildStart,
    start: Math.max(0, instanceAt - topologyEnd),
    health: readinessEnd - Math.max(instanceAt, topologyEnd),
    cutover: cutoverEnd - readinessEnd,
    routed: Math.max(0, tFirst - cutoverEnd),
    total,
  };
  // What is left: CLI process start, git metadata, createDeployment, workflow start, topology/sentinel steps.
  result["cli+create"] = total - phases.filter((p) => p !== "cli+create" && p !== "total").reduce((sum, p) => sum + result[p], 0);
  return result;
}

async function uniqueCopy(i: number): Promise<string> {
  const dir = await mkdtemp(join(sys.scratch, `hello-${i}-`));
  await cp(join(repo, "examples/hello"), dir, { recursive: true });
  await writeFile(join(dir, "bench-nonce.txt"), `${Date.now()}-${i}-${Math.random()}\n`);
  return dir;
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const max = (xs: number[]) => Math.max(...xs);

try {
  console.log(
    `ctrl deploy → first response through frontline, ${runs} runs each; worker readiness recheck every ${readinessPollMs} ms (a floor of the health phase)`,
  );
  await deployOnce(join(repo, "examples/hello")); // warm-up; also seeds the cache for the cached runs
  const uncached: Record<Phase, number>[] = [];
  for (let i = 0; i < runs; i++) uncached.push(await deployOnce(await uniqueCopy(i)));
  const cached: Record<Phase, number>[] = [];
  for (let i = 0; i < runs; i++) cached.push(await deployOnce(join(repo, "examples/hello")));
  const col = (rs: Record<Phase, number>[], p: Phase) => rs.map((r) => r[p]);
  printTable(
    ["phase (ms)", "uncached p50", "uncached max", "cached p50", "cached max"],
    phases.map((p) => [p, p50(col(uncached, p)), max(col(uncached, p)), p50(col(cached, p)), max(col(cached, p))]),
  );
  const t = p50(col(uncached, "total"));
  const c = p50(col(cached, "total"));
  console.log(
    `deploys/s (sequential): uncached ${(1000 / t).toFixed(2)}, cached ${(1000 / c).toFixed(2)}; cached/uncached total ratio ${(c / t).toFixed(2)}`,
  );
} finally {
  await sys.close();
}
