/**
 * The route, step and status queries the deploy path relies on, against a real MariaDB database:
 * hostnames are never stolen across projects, upserts are idempotent, a finished deployment is
 * never resurrected, and a replayed step keeps its start time.
 */
import {
  listDeploymentSteps,
  newId,
  repointRoutes,
  seedLocal,
  setDeploymentStatus,
  upsertDeploymentStep,
  upsertRoutes,
  type Db,
} from "@ctrl/db";
import { createTestDatabase, type TestDatabase } from "@ctrl/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, insertDeployment } from "./deploy-harness.js";

let database: TestDatabase;
let db: Db;
let workspaceId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  workspaceId = (await seedLocal(db)).workspaceId;
});
afterAll(async () => {
  await database?.drop();
});

const routesOf = (projectId: string) =>
  db
    .selectFrom("frontline_routes")
    .select(["fully_qualified_domain_name", "deployment_id", "sticky", "environment_id"])
    .where("project_id", "=", projectId)
    .orderBy("fully_qualified_domain_name")
    .execute();

describe("upsertRoutes / repointRoutes", () => {
  it("inserts, moves within a project, is idempotent, and never takes another project's hostname", async () => {
    const p = await createProject(db, workspaceId, "alpha");
    const q = await createProject(db, workspaceId, "beta");
    const d1 = await insertDeployment(db, { workspaceId, projectId: p.projectId, environmentId: p.environments.production });
    const d2 = await insertDeployment(db, { workspaceId, projectId: p.projectId, environmentId: p.environments.production });
    const foreign = await insertDeployment(db, { workspaceId, projectId: q.projectId, environmentId: q.environments.production });
    const base = { workspaceId, environmentId: p.environments.production, now: 1 };

    expect(
      await upsertRoutes(db, {
        ...base,
        projectId: q.projectId,
        environmentId: q.environments.production,
        deploymentId: foreign,
        routes: [{ fqdn: "taken.example", sticky: "live" }],
      }),
    ).toEqual(["taken.example"]);
    const routes = [
      { fqdn: "a.example", sticky: "environment" as const },
      { fqdn: "taken.example", sticky: "live" as const },
    ];
    expect(await upsertRoutes(db, { ...base, projectId: p.projectId, deploymentId: d1, routes })).toEqual(["a.example"]);
    expect(await upsertRoutes(db, { ...base, projectId: p.projectId, deploymentId: d1, routes })).toEqual(["a.example"]);
    expect(await upsertRoutes(db, { ...base, projectId: p.projectId, deploymentId: d2, routes, now: 2 })).toEqual(["a.example"]);
    expect(await upsertRoutes(db, { ...base, projectId: p.projectId, deploymentId: d2, routes: [] })).toEqual([]);

    expect(await routesOf(p.projectId)).toEqual([
      { fully_qualified_domain_name: "a.example", deployment_id: d2, sticky: "environment", environment_id: p.environments.production },
    ]);
    expect((await routesOf(q.projectId)).map((r) => [r.fully_qualified_domain_name, r.deployment_id])).toEqual([
      ["taken.example", foreign],
    ]);

    // repointRoutes only moves routes of the given project, even when handed a foreign id.
    const ids = await db.selectFrom("frontline_routes").select("id").execute();
    expect(
      await repointRoutes(
        db,
        p.projectId,
        ids.map((r) => r.id),
        d1,
        3,
      ),
    ).toBe(1);
    expect((await routesOf(q.projectId))[0]!.deployment_id).toBe(foreign);
    expect(await repointRoutes(db, p.projectId, [], d1, 3)).toBe(0);
  });
});

describe("setDeploymentStatus", () => {
  it("moves forward but never leaves ready, failed or cancelled", async () => {
    const p = await createProject(db, workspaceId, "gamma");
    const id = await insertDeployment(db, { workspaceId, projectId: p.projectId, environmentId: p.environments.preview });
    expect(await setDeploymentStatus(db, id, { status: "deploying" }, 1)).toBe(true);
    expect(
      await setDeploymentStatus(db, id, { status: "failed", errorMessage: "x", failedStep: "readiness", failureReason: "start_failed" }, 2),
    ).toBe(true);
    expect(await setDeploymentStatus(db, id, { status: "ready" }, 3)).toBe(false);
    expect(await setDeploymentStatus(db, id, { status: "deploying" }, 3)).toBe(false);
    const row = await db.selectFrom("deployments").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: "failed",
      error_message: "x",
      failed_step: "readiness",
      failure_reason: "start_failed",
      updated_at: 2,
    });
    expect(await setDeploymentStatus(db, "d_missing", { status: "ready" }, 4)).toBe(false);
  });
});

describe("upsertDeploymentStep", () => {
  it("keeps one row per step with its first start time", async () => {
    const deploymentId = newId("d");
    await upsertDeploymentStep(db, { deploymentId, step: "readiness", status: "running", message: "waiting", now: 10 });
    await upsertDeploymentStep(db, { deploymentId, step: "readiness", status: "running", message: "waiting: 1/2", now: 20 });
    await upsertDeploymentStep(db, {
      deploymentId,
      step: "readiness",
      status: "failed",
      message: "waiting",
      errorMessage: "boom",
      now: 30,
    });
    await upsertDeploymentStep(db, { deploymentId, step: "openapi", status: "skipped", message: "no address", now: 40 });
    const steps = await listDeploymentSteps(db, deploymentId);
    expect(steps.map((s) => [s.step, s.status, s.message, s.error_message, s.started_at, s.ended_at])).toEqual([
      ["readiness", "failed", "waiting", "boom", 10, 30],
      ["openapi", "skipped", "no address", null, 40, 40],
    ]);
  });
});
