/**
 * Custom domains follow their environment: a cutover moves a verified custom domain's route (sticky
 * `environment`) to the new deployment like the environment's own domain, holds it while the
 * project is rolled back, and never routes a claim that was not verified. Real MariaDB; planCutover
 * is the pure decision of DeploymentService.cutover.
 */
import { newId, seedLocal, type SeedResult } from "@ctrl/db";
import { createTestDatabase, type TestDatabase } from "@ctrl/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { planCutover } from "../src/services/deployment-service/cutover.js";

let database: TestDatabase;
let seed: SeedResult;

beforeAll(async () => {
  database = await createTestDatabase();
  seed = await seedLocal(database.db);
});
afterAll(async () => database?.drop());

async function deployment(createdAt: number): Promise<string> {
  const id = newId("d");
  await database.db
    .insertInto("deployments")
    .values({
      id,
      workspace_id: seed.workspaceId,
      project_id: seed.projectId,
      environment_id: seed.environments.production,
      source_type: "image",
      image: "hello",
      status: "deploying",
      cpu_millicores: 100,
      memory_mib: 128,
      replicas: 1,
      port: 8080,
      health_check_path: "/health",
      git_commit_sha: "abcdef1234567",
      git_branch: "main",
      created_at: createdAt,
      updated_at: createdAt,
    })
    .execute();
  return id;
}

it("assigns the environment's verified custom domains with the environment's stickiness, never an unverified claim, and holds them while rolled back", async () => {
  const now = Date.now();
  const claim = (environmentId: string, domain: string, verified: boolean) =>
    database.db
      .insertInto("custom_domains")
      .values({
        id: newId("dom"),
        workspace_id: seed.workspaceId,
        project_id: seed.projectId,
        environment_id: environmentId,
        domain,
        challenge_type: "http-01",
        verification_status: verified ? "verified" : "pending_verification",
        verification_value: "ctrl-domain-verification=x",
        verified_domain: verified ? domain : null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  await claim(seed.environments.production, "shop.example.com", true);
  await claim(seed.environments.preview, "preview.example.com", true);
  await claim(seed.environments.production, "unproven.example.com", false);
  const id = await deployment(now);

  const plan = await planCutover(database.db, seed.projectId, { deploymentId: id }, "ctrl.localhost");
  expect(plan.ok).toBe(true);
  if (!plan.ok) return;
  expect(plan.plan.assign).toContainEqual({ fqdn: "shop.example.com", sticky: "environment" });
  // Another environment's custom domain is not touched.
  expect(plan.plan.assign.map((d) => d.fqdn)).not.toContain("preview.example.com");
  // A claim whose TXT record was never seen is not routed by a deploy either.
  expect(plan.plan.assign.map((d) => d.fqdn)).not.toContain("unproven.example.com");

  await database.db.updateTable("projects").set({ is_rolled_back: 1 }).where("id", "=", seed.projectId).execute();
  const pinned = await planCutover(database.db, seed.projectId, { deploymentId: id }, "ctrl.localhost");
  expect(pinned.ok && pinned.plan.held).toContain("shop.example.com");
  expect(pinned.ok && pinned.plan.assign.map((d) => d.fqdn)).not.toContain("shop.example.com");
});
