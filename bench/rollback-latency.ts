/**
 * Benchmark: rollback (and promote) latency through ctrl-api with 1,000 projects and 10,000 routes
 * in the database. Each rollback is `DeploymentService.Rollback` over Connect → authorization →
 * the worker's `DeploymentService.rollback` (key = project) through the Restate ingress →
 * preconditions → `RoutingService.switchLive` (routes + live pointer + pin in one transaction).
 * Promote is measured the same way on the same projects (it clears the pin).
 *
 * References in the same run: a bare Connect round trip (`CtrlService.Liveness`, no auth, no DB)
 * and a bare Restate round trip through the ingress (`VersioningService.getVersion`, one DB read).
 *
 *   pnpm bench rollback-latency    BENCH_PROJECTS (1000), BENCH_ROUTES_PER_PROJECT (10), BENCH_ROLLBACKS (200), BENCH_CONCURRENCY (1,10)
 */
import { versioningServiceName, type VersioningServiceApi } from "@ctrl/ctrl-worker/api";
import { newId } from "@ctrl/db";
import { exposeServicesForTest } from "@ctrl/testing";
import { bearer, clients, createWorkspace, startDeployStack } from "@ctrl/stack";
import { printTable } from "./lib/load.js";

const projectCount = Number(process.env.BENCH_PROJECTS ?? 1000);
const routesPerProject = Number(process.env.BENCH_ROUTES_PER_PROJECT ?? 10);
const rollbacks = Math.min(Number(process.env.BENCH_ROLLBACKS ?? 200), projectCount);
const levels = (process.env.BENCH_CONCURRENCY ?? "1,10").split(",").map(Number);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const row = (name: string, concurrency: number | string, values: number[], seconds: number) => {
  const s = [...values].sort((a, b) => a - b);
  return [
    name,
    concurrency,
    s.length,
    percentile(s, 50).toFixed(1),
    percentile(s, 99).toFixed(1),
    s[s.length - 1]!.toFixed(1),
    (s.length / seconds).toFixed(0),
  ];
};

const stack = await startDeployStack({ regions: ["bench"] });
// VersioningService is ingress-private; the bare-round-trip row calls it directly.
await exposeServicesForTest(stack.restate.adminUrl, ["VersioningService"]);
const db = stack.deps.db;
try {
  // ---- fixture: projects, each with a live deployment b (live + environment + commit + branch
  // routes), an earlier ready deployment a, and filler routes up to routesPerProject.
  const ws = await createWorkspace(db);
  const now = Date.now();
  const projects: { id: string; a: string; b: string }[] = [];
  const chunk = 100;
  for (let start = 0; start < projectCount; start += chunk) {
    const projectRows = [];
    const envRows = [];
    const deploymentRows = [];
    const routeRows = [];
    for (let i = start; i < Math.min(start + chunk, projectCount); i++) {
      const id = newId("proj");
      const env = newId("env");
      const a = newId("d");
      const b = newId("d");
      projects.push({ id, a, b });
      projectRows.push({
        id,
        workspace_id: ws.workspaceId,
        name: `p${i}`,
        slug: `p${i}`,
        live_deployment_id: b,
        created_at: now,
        updated_at: now,
      });
      envRows.push({
        id: env,
        workspace_id: ws.workspaceId,
        project_id: id,
        slug: "production",
        regions: null,
        created_at: now,
        updated_at: now,
      });
      for (const d of [a, b]) {
        deploymentRows.push({
          id: d,
          workspace_id: ws.workspaceId,
          project_id: id,
          environment_id: env,
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
          status: "ready" as const,
          error_message: null,
          failed_step: null,
          openapi_spec: null,
          cpu_millicores: 250,
          memory_mib: 256,
          replicas: 1,
          port: 8080,
          health_check_path: "/health",
          created_at: d === a ? now - 1000 : now,
          updated_at: now,
        });
      }
      const route = (deploymentId: string, sticky: "none" | "branch" | "environment" | "live", n: number) => ({
        id: newId("route"),
        workspace_id: ws.workspaceId,
        project_id: id,
        environment_id: env,
        deployment_id: deploymentId,
        fully_qualified_domain_name: `p${i}-${sticky}-${n}.bench.test`,
        sticky,
        created_at: now,
        updated_at: now,
      });
      routeRows.push(
        route(b, "live", 0),
        route(b, "environment", 0),
        route(b, "none", 0),
        route(b, "branch", 0),
        route(a, "none", 1),
        route(a, "branch", 1),
      );
      for (let n = 6; n < routesPerProject; n++) routeRows.push(route(a, "none", n));
    }
    await db.insertInto("projects").values(projectRows).execute();
    await db.insertInto("environments").values(envRows).execute();
    await db.insertInto("deployments").values(deploymentRows).execute();
    await db.insertInto("frontline_routes").values(routeRows).execute();
  }
  const routeCount = Number(
    (
      await db
        .selectFrom("frontline_routes")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

  const { deployments } = clients(stack);
  const auth = bearer(stack.operatorToken);
  // Connect JSON unary as a plain POST (the same HTTP/1.1 listener and plugin as the RPCs).
  const liveness = {
    liveness: async () => {
      const res = await fetch(`${stack.apiUrl}/ctrl.v1.CtrlService/Liveness`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      if (res.status !== 200) throw new Error(`liveness ${res.status}`);
      await res.arrayBuffer();
    },
  };
  const versioning = stack.deps.restate.objectClient<VersioningServiceApi>({ name: versioningServiceName }, "bench");

  const measure = async (concurrency: number, count: number, op: (i: number) => Promise<unknown>) => {
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          const i = next++;
          const t = performance.now();
          await op(i);
          latencies.push(performance.now() - t);
        }
      }),
    );
    return { latencies, seconds: (performance.now() - started) / 1000 };
  };

  // Warm-up on projects we do not measure.
  const warm = projects.slice(projectCount - 10);
  for (const p of warm) await deployments.rollback({ sourceDeploymentId: p.b, targetDeploymentId: p.a }, auth);
  for (let i = 0; i < 50; i++) await liveness.liveness();

  const table: (string | number)[][] = [];
  let offset = 0;
  for (const concurrency of levels) {
    const batch = projects.slice(offset, offset + rollbacks);
    offset += rollbacks;
    if (batch.length < rollbacks) break;
    const rb = await measure(concurrency, batch.length, (i) =>
      deployments.rollback({ sourceDeploymentId: batch[i]!.b, targetDeploymentId: batch[i]!.a }, auth),
    );
    table.push(row("Rollback", concurrency, rb.latencies, rb.seconds));
    const pr = await measure(concurrency, batch.length, (i) => deployments.promote({ targetDeploymentId: batch[i]!.b }, auth));
    table.push(row("Promote", concurrency, pr.latencies, pr.seconds));
    const bareRpc = await measure(concurrency, rollbacks, () => liveness.liveness());
    table.push(row("  ref: Connect Liveness", concurrency, bareRpc.latencies, bareRpc.seconds));
    const bareRestate = await measure(concurrency, rollbacks, async () => versioning.getVersion());
    table.push(row("  ref: Restate getVersion", concurrency, bareRestate.latencies, bareRestate.seconds));
  }
  // Sanity: the last measured rollbacks really switched (and promotes switched back).
  const sample = await db
    .selectFrom("projects")
    .select(["live_deployment_id", "is_rolled_back"])
    .where("id", "=", projects[0]!.id)
    .executeTakeFirstOrThrow();
  if (sample.live_deployment_id !== projects[0]!.b || Number(sample.is_rolled_back) !== 0)
    throw new Error(`unexpected project state after promote: ${JSON.stringify(sample)}`);

  console.log(`\nrollback/promote latency through ctrl-api: ${projectCount} projects, ${routeCount} routes in the database; ms`);
  printTable(["operation", "concurrent", "n", "p50", "p99", "max", "ops/s"], table);
} finally {
  await stack.close();
}
process.exit(0);
