/**
 * Build queries against a real database: one build row per deployment (a retried build re-opens
 * it); a reusable build is the newest succeeded one of the project with the same context digest,
 * of the same backend, never the asking build; log appends are at-least-once (a repeated seq keeps
 * its first text) and read in seq order after a cursor.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appendBuildLogs,
  clearBuildLogs,
  completeBuild,
  failBuild,
  findBuildByDeployment,
  findDeploymentById,
  findReusableBuild,
  maxBuildLogSeq,
  readBuildLogs,
  setBuildContextDigest,
  setDeploymentBuild,
  startBuild,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedDeployment, seedProject } from "./helpers.js";

let database: TestDatabase;
const owner = { workspace_id: "ws_1", project_id: "proj_1", environment_id: "env_1" };
const start = (id: string, deploymentId: string, now: number, backend: "local" | "docker" = "local", projectId = "proj_1") =>
  startBuild(database.db, { id, deploymentId, workspaceId: "ws_1", projectId, backend, contextKey: `ctx/${id}`, now });

beforeAll(async () => {
  database = await createTestDatabase();
  await seedProject(database.db, { workspaceId: "ws_1", projectId: "proj_1", environmentIds: [{ id: "env_1", slug: "production" }] });
  for (const id of ["d_1", "d_2", "d_3", "d_4", "d_5"])
    await seedDeployment(database.db, { ...owner, id, source_type: "build_context", image: null });
});

afterAll(async () => {
  await database?.drop();
});

describe("builds", () => {
  it("keeps one build row per deployment; a retry re-opens it", async () => {
    await start("b_1", "d_1", 10);
    await failBuild(database.db, "b_1", { step: "extract", errorMessage: "bad tar", now: 11 });
    expect(await findBuildByDeployment(database.db, "d_1")).toMatchObject({ status: "failed", failed_step: "extract", ended_at: 11 });
    await start("b_1_retry", "d_1", 20);
    expect(await findBuildByDeployment(database.db, "d_1")).toMatchObject({
      id: "b_1",
      status: "running",
      failed_step: null,
      error_message: null,
      ended_at: null,
      updated_at: 20,
    });
    expect(await findBuildByDeployment(database.db, "d_missing")).toBeUndefined();
  });

  it("reuses the newest succeeded build of the project with the same digest and backend, never the asking build", async () => {
    await setBuildContextDigest(database.db, "b_1", "sha-a", 21);
    await completeBuild(database.db, "b_1", { image: "s3://b/1", artifactSha256: "x1", cachedFromBuildId: null, now: 30 });
    await start("b_2", "d_2", 31);
    await setBuildContextDigest(database.db, "b_2", "sha-a", 31);
    await completeBuild(database.db, "b_2", { image: "s3://b/2", artifactSha256: "x2", cachedFromBuildId: null, now: 40 });
    await start("b_3", "d_3", 41, "docker");
    await setBuildContextDigest(database.db, "b_3", "sha-a", 41);
    await completeBuild(database.db, "b_3", { image: "img:3", artifactSha256: null, cachedFromBuildId: null, now: 50 });
    await start("b_4", "d_4", 51);
    await setBuildContextDigest(database.db, "b_4", "sha-a", 51);
    await failBuild(database.db, "b_4", { step: "build", errorMessage: "exit 1", now: 52 });
    await start("b_5", "d_5", 60);

    expect((await findReusableBuild(database.db, "proj_1", "sha-a", "b_5", "local"))?.id).toBe("b_2");
    expect((await findReusableBuild(database.db, "proj_1", "sha-a", "b_5"))?.id).toBe("b_3");
    expect((await findReusableBuild(database.db, "proj_1", "sha-a", "b_2", "local"))?.id).toBe("b_1");
    expect(await findReusableBuild(database.db, "proj_1", "sha-other", "b_5")).toBeUndefined();
    expect(await findReusableBuild(database.db, "proj_other", "sha-a", "b_5")).toBeUndefined();
  });

  it("sets the deployment's build and image", async () => {
    await setDeploymentBuild(database.db, "d_2", { buildId: "b_2", image: "s3://b/2", now: 70 });
    expect(await findDeploymentById(database.db, "d_2")).toMatchObject({ build_id: "b_2", image: "s3://b/2", updated_at: 70 });
  });
});

describe("build logs", () => {
  it("appends at least once, reads after a cursor in seq order, and clears", async () => {
    expect(await maxBuildLogSeq(database.db, "d_5")).toBe(0);
    await appendBuildLogs(database.db, "d_5", "b_5", [
      { step: "build", seq: 2, line: "two", createdAt: 1 },
      { step: "build", seq: 1, line: "one", createdAt: 1 },
    ]);
    await appendBuildLogs(database.db, "d_5", "b_5", [
      { step: "build", seq: 2, line: "two again", createdAt: 2 },
      { step: "build", seq: 3, line: "three", createdAt: 2 },
    ]);
    await appendBuildLogs(database.db, "d_5", "b_5", []);
    expect((await readBuildLogs(database.db, "d_5")).map((l) => [l.seq, l.line])).toEqual([
      [1, "one"],
      [2, "two"],
      [3, "three"],
    ]);
    expect((await readBuildLogs(database.db, "d_5", 1, 1)).map((l) => l.seq)).toEqual([2]);
    expect(await maxBuildLogSeq(database.db, "d_5")).toBe(3);
    expect(await readBuildLogs(database.db, "d_1")).toEqual([]);
    await clearBuildLogs(database.db, "d_5");
    expect(await readBuildLogs(database.db, "d_5")).toEqual([]);
  });
});
