/**
 * The Docker backend against a real Docker engine and registry. Runs only where `docker info`
 * succeeds and BUILD_DOCKER_TEST_REPOSITORY names a registry/repository the engine may push to
 * (e.g. `localhost:5000/ctrl-test` with `docker run -d -p 5000:5000 registry:2`); everywhere else
 * it is reported as skipped. Command construction is unit tested in src/docker.test.ts.
 */
import { seedLocal } from "@ctrl/db";
import { createStorage } from "@ctrl/s3";
import { createTestDatabase, startS3 } from "@ctrl/testing";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packDirectory } from "@ctrl/artifact";
import { buildIdFor, defaultContextLimits, dockerAvailable, memoryReporter, runBuild } from "../src/index.js";

const repository = process.env.BUILD_DOCKER_TEST_REPOSITORY;
// Why this file does not run here, printed as the skip note so a CI log shows it (CI has no engine).
const skipReason = !repository
  ? "BUILD_DOCKER_TEST_REPOSITORY is unset (set it to a registry/repository the engine may push to)"
  : !(await dockerAvailable())
    ? "no Docker engine answers `docker info` on this machine"
    : undefined;

describe("docker backend (needs a Docker engine and BUILD_DOCKER_TEST_REPOSITORY)", () => {
  it("builds the context's Dockerfile, pushes it and returns the image with its digest", async (ctx) => {
    if (skipReason) ctx.skip(`docker backend skipped: ${skipReason}`);
    const [s3, tdb] = await Promise.all([startS3(), createTestDatabase()]);
    const scratch = await mkdtemp(join(tmpdir(), "ctrl-docker-"));
    const storage = createStorage({
      endpoint: s3.endpoint,
      region: "us-east-1",
      bucket: "ctrl-builds",
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    });
    try {
      await storage.ensureBucket();
      const seed = await seedLocal(tdb.db);
      const app = join(scratch, "app");
      await mkdir(join(app, "deploy"), { recursive: true });
      await writeFile(join(app, "deploy", "Dockerfile"), 'FROM busybox\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n');
      await writeFile(join(app, "hello.txt"), "hello\n");
      await packDirectory(app, join(scratch, "ctx.tar.gz"));
      const key = `${seed.projectId}/build_docker.tar.gz`;
      await storage.putObject(key, await readFile(join(scratch, "ctx.tar.gz")));
      const deploymentId = "d_dockertest";
      const result = await runBuild(
        { db: tdb.db, storage },
        {
          backend: "docker",
          limits: defaultContextLimits,
          timeoutMs: 300_000,
          workDir: join(scratch, "work"),
          npmRegistry: "https://registry.npmjs.org/",
          docker: { repository: repository! },
        },
        {
          deploymentId,
          projectId: seed.projectId,
          workspaceId: seed.workspaceId,
          contextKey: key,
          dockerfilePath: "deploy/Dockerfile",
          buildId: buildIdFor(deploymentId),
        },
        memoryReporter(),
      );
      expect(result.backend).toBe("docker");
      expect(result.image).toMatch(new RegExp(`^${repository}:${seed.projectId}-build_dockertest@sha256:[0-9a-f]{64}$`));
    } finally {
      storage.destroy();
      await Promise.all([s3.dispose(), tdb.drop()]);
      await rm(scratch, { recursive: true, force: true });
    }
  }, 600_000);
});
