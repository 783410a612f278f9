/**
 * Benchmark (issue 10): what the build sandbox costs. The local builder (packages/build, the real
 * runBuild against a real database and s3rver) builds `examples/with-deps` — `npm ci` from the
 * registry (through the sandbox's egress proxy when sandboxed) and `npm run build` — alternately
 * with the bubblewrap sandbox (the default) and with BUILD_SANDBOX=none, in the same run; per run
 * the install and compile step times and the whole build.
 *
 *   pnpm bench build-sandbox    BENCH_RUNS (3)
 */
import { packDirectory } from "@ctrl/artifact";
import { buildIdFor, defaultContextLimits, memoryReporter, runBuild, type BuildConfig } from "@ctrl/build";
import { newId, seedLocal } from "@ctrl/db";
import { createStorage } from "@ctrl/s3";
import { createTestDatabase, startS3 } from "@ctrl/testing";
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { printTable } from "./lib/load.js";

const runs = Number(process.env.BENCH_RUNS ?? 3);
const withDeps = resolve(import.meta.dirname, "../examples/with-deps");
const [s3, tdb] = await Promise.all([startS3(), createTestDatabase()]);
const storage = createStorage({
  endpoint: s3.endpoint,
  region: "us-east-1",
  bucket: "ctrl-builds",
  accessKeyId: s3.accessKeyId,
  secretAccessKey: s3.secretAccessKey,
});
const scratch = await mkdtemp(join(tmpdir(), "ctrl-build-bench-"));
await chmod(scratch, 0o711); // the sandbox's uid must reach the work dir
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  await storage.ensureBucket();
  const seed = await seedLocal(tdb.db);
  const rows: (string | number)[][] = [];
  const totals = { bwrap: [] as number[], none: [] as number[] };
  for (let i = 0; i < runs; i++) {
    for (const sandbox of ["bwrap", "none"] as const) {
      const id = newId("d");
      const key = `${seed.projectId}/build_${id.slice(2)}.tar.gz`;
      // A unique context per build (one extra file), so no earlier artifact is reused.
      const src = join(scratch, `src-${i}-${sandbox}`);
      await cp(withDeps, src, { recursive: true, filter: (p) => !/\/(node_modules|dist)(\/|$)/.test(p.slice(withDeps.length)) });
      await writeFile(join(src, "run.txt"), `${i} ${sandbox} ${Date.now()}`);
      const contextFile = join(scratch, `ctx-${i}-${sandbox}.tar.gz`);
      await packDirectory(src, contextFile);
      await storage.putObject(key, await readFile(contextFile), "application/gzip");
      const now = Date.now();
      await tdb.db
        .insertInto("deployments")
        .values({
          id,
          workspace_id: seed.workspaceId,
          project_id: seed.projectId,
          environment_id: seed.environments.preview,
          source_type: "build_context",
          build_context_path: key,
          dockerfile_path: null,
          image: null,
          build_id: null,
          git_commit_sha: "",
          git_branch: "main",
          git_commit_message: null,
          git_commit_author_handle: null,
          git_commit_author_avatar_url: null,
          git_commit_timestamp: null,
          command: null,
          status: "building",
          error_message: null,
          failed_step: null,
          failure_reason: null,
          openapi_spec: null,
          cpu_millicores: 250,
          memory_mib: 256,
          replicas: 1,
          port: 8080,
          health_check_path: "/health",
          created_at: now,
          updated_at: now,
        })
        .execute();
      const config: BuildConfig = {
        backend: "local",
        limits: defaultContextLimits,
        timeoutMs: 300_000,
        workDir: join(scratch, "work"),
        npmRegistry: "https://registry.npmjs.org/",
        sandbox,
        ...(process.env.NODE_EXTRA_CA_CERTS ? { caFile: process.env.NODE_EXTRA_CA_CERTS } : {}),
      };
      const inner = memoryReporter();
      const times = new Map<string, { start?: number; end?: number }>();
      const reporter: typeof inner = {
        ...inner,
        async step(step, status, message, errorMessage) {
          const t = times.get(step) ?? {};
          if (status === "running") t.start = performance.now();
          if (status === "completed") t.end = performance.now();
          times.set(step, t);
          await inner.step(step, status, message, errorMessage);
        },
      };
      const t0 = performance.now();
      await runBuild(
        { db: tdb.db, storage },
        config,
        { deploymentId: id, projectId: seed.projectId, workspaceId: seed.workspaceId, contextKey: key, buildId: buildIdFor(id) },
        reporter,
      );
      const total = performance.now() - t0;
      const stepMs = (name: string) => {
        const t = times.get(name);
        return t?.start !== undefined && t.end !== undefined ? Math.round(t.end - t.start) : NaN;
      };
      totals[sandbox].push(total);
      rows.push([i + 1, sandbox, stepMs("build:install"), stepMs("build:compile"), Math.round(total)]);
    }
  }
  console.log("\nlocal build of examples/with-deps (npm ci from registry.npmjs.org + npm run build), with and without the sandbox, ms");
  printTable(["run", "sandbox", "npm ci", "npm run build", "whole build"], rows);
  console.log(
    `whole build p50: ${Math.round(median(totals.bwrap))} ms sandboxed vs ${Math.round(median(totals.none))} ms with BUILD_SANDBOX=none (${(median(totals.bwrap) / median(totals.none)).toFixed(2)}×)`,
  );
} finally {
  storage.destroy();
  await Promise.all([s3.dispose(), tdb.drop()]);
  await rm(scratch, { recursive: true, force: true });
}
process.exit(0);
