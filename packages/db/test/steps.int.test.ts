/**
 * Deployment step queries against a real database: an upsert keeps one row per (deployment, step)
 * and its first start; steps list in start order; a start failure closes an existing step without
 * changing its message or start.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listDeploymentSteps, recordFailedStep, upsertDeploymentStep } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedDeployment, seedProject } from "./helpers.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedProject(database.db, { workspaceId: "ws_1", projectId: "proj_1", environmentIds: [{ id: "env_1", slug: "production" }] });
  await seedDeployment(database.db, { workspace_id: "ws_1", project_id: "proj_1", environment_id: "env_1", id: "d_1" });
});

afterAll(async () => {
  await database?.drop();
});

describe("steps", () => {
  it("keeps one row per step with its first start, in start order", async () => {
    await upsertDeploymentStep(database.db, { deploymentId: "d_1", step: "build", status: "running", message: "Building", now: 10 });
    await upsertDeploymentStep(database.db, { deploymentId: "d_1", step: "deploy", status: "running", message: "Deploying", now: 20 });
    await upsertDeploymentStep(database.db, { deploymentId: "d_1", step: "build", status: "completed", message: "Built", now: 15 });
    const steps = await listDeploymentSteps(database.db, "d_1");
    expect(steps.map((s) => [s.step, s.status, s.message, s.started_at, s.ended_at])).toEqual([
      ["build", "completed", "Built", 10, 15],
      ["deploy", "running", "Deploying", 20, null],
    ]);
  });

  it("records a failed step, closing an existing one without changing its message or start", async () => {
    await recordFailedStep(database.db, { deploymentId: "d_1", step: "start", message: "Starting", errorMessage: "down", now: 30 });
    await recordFailedStep(database.db, { deploymentId: "d_1", step: "deploy", message: "Other", errorMessage: "gone", now: 40 });
    const steps = await listDeploymentSteps(database.db, "d_1");
    expect(steps.map((s) => [s.step, s.status, s.message, s.error_message, s.started_at, s.ended_at])).toEqual([
      ["build", "completed", "Built", null, 10, 15],
      ["deploy", "failed", "Deploying", "gone", 20, 40],
      ["start", "failed", "Starting", "down", 30, 30],
    ]);
  });
});
