/**
 * Migration 0008_domain_verification on a database that already holds custom domains (real
 * MariaDB). Guarantee: a domain attached before ownership proofs existed is not trusted: it goes
 * back to pending_verification with a fresh random TXT value and loses its route until its owner
 * proves control; other routes are untouched; down restores the old unique name.
 */
import type { Kysely } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { newId } from "../src/ids.js";
import * as m0008 from "../src/migrations/0008_domain_verification.js";
import { seedLocal } from "../src/seed.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.drop());

it("puts legacy domains back to pending_verification with fresh values and removes their routes", async () => {
  const db = database.db;
  const seed = await seedLocal(db);
  await m0008.down(db);
  const now = Date.now();
  const base = {
    workspace_id: seed.workspaceId,
    project_id: seed.projectId,
    environment_id: seed.environments.production,
    created_at: now,
    updated_at: now,
  };
  // The table as 0001 left it (no verification columns): typed loosely, like a migration.
  const legacy = db as unknown as Kysely<any>;
  for (const domain of ["old-a.example.com", "old-b.example.com"]) {
    await legacy
      .insertInto("custom_domains")
      .values({ ...base, id: newId("dom"), domain, challenge_type: "http-01", verification_status: "verified" })
      .execute();
    await db
      .insertInto("frontline_routes")
      .values({ ...base, id: newId("route"), deployment_id: "d_x", fully_qualified_domain_name: domain, sticky: "environment" })
      .execute();
  }
  await db
    .insertInto("frontline_routes")
    .values({
      ...base,
      id: newId("route"),
      deployment_id: "d_x",
      fully_qualified_domain_name: "hello-production-local.ctrl.localhost",
      sticky: "environment",
    })
    .execute();

  await m0008.up(db);
  const rows = await db.selectFrom("custom_domains").selectAll().orderBy("domain").execute();
  expect(rows.map((r) => [r.domain, r.verification_status, r.verified_domain])).toEqual([
    ["old-a.example.com", "pending_verification", null],
    ["old-b.example.com", "pending_verification", null],
  ]);
  for (const r of rows) expect(r.verification_value).toMatch(/^ctrl-domain-verification=[A-Za-z0-9_-]{32}$/);
  expect(rows[0]!.verification_value).not.toBe(rows[1]!.verification_value);
  const routes = await db.selectFrom("frontline_routes").select("fully_qualified_domain_name").execute();
  expect(routes.map((r) => r.fully_qualified_domain_name)).toEqual(["hello-production-local.ctrl.localhost"]);
  // Two workspaces may now claim one name; one workspace still only once.
  await db
    .insertInto("custom_domains")
    .values({
      ...base,
      workspace_id: "ws_other",
      id: newId("dom"),
      domain: "old-a.example.com",
      challenge_type: "http-01",
      verification_status: "pending_verification",
      verification_value: "v",
    })
    .execute();
  await expect(
    db
      .insertInto("custom_domains")
      .values({
        ...base,
        id: newId("dom"),
        domain: "old-a.example.com",
        challenge_type: "http-01",
        verification_status: "pending_verification",
        verification_value: "v",
      })
      .execute(),
  ).rejects.toThrow(/Duplicate/);
});
