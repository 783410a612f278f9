/**
 * Listing and removing custom domains against a real database: a list is per project (or
 * environment), by name, with whether the name is routed; removing the verified claim deletes its
 * challenge, its project's routes of the name and the name's certificate; removing a pending claim
 * of a name another workspace verified deletes only that claim and its challenge.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteCustomDomain, listCustomDomainClaimsOfProject } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedClaim, seedProject, seedRoute } from "./helpers.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  await seedProject(db, {
    workspaceId: "ws_1",
    projectId: "proj_1",
    environmentIds: [
      { id: "env_1", slug: "production" },
      { id: "env_1b", slug: "preview" },
    ],
  });
  await seedProject(db, { workspaceId: "ws_2", projectId: "proj_2", environmentIds: [{ id: "env_2", slug: "production" }] });
  await seedClaim(
    db,
    { id: "dom_shop", domain: "shop.example.com", environment_id: "env_1", verification_status: "verified" },
    { status: "verified" },
  );
  await seedClaim(db, { id: "dom_shop2", domain: "shop.example.com", workspace_id: "ws_2", project_id: "proj_2", environment_id: "env_2" });
  await seedClaim(db, { id: "dom_blog", domain: "blog.example.com", environment_id: "env_1b" });
  await seedRoute(db, {
    id: "route_shop",
    fully_qualified_domain_name: "shop.example.com",
    deployment_id: "d_1",
    environment_id: "env_1",
    sticky: "environment",
  });
  await db
    .insertInto("certificates")
    .values({
      id: "cert_shop",
      workspace_id: "ws_1",
      hostname: "shop.example.com",
      certificate: "pem",
      encrypted_private_key: "sealed",
      expires_at: 99,
      created_at: 1,
      updated_at: 1,
    })
    .execute();
});

afterAll(async () => {
  await database?.drop();
});

const count = async (table: "custom_domains" | "acme_challenges" | "frontline_routes" | "certificates") =>
  Number(
    (
      await database.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe("custom domain listing and removal", () => {
  it("lists a project's claims by name with routing and certificate state, optionally per environment", async () => {
    const all = await listCustomDomainClaimsOfProject(database.db, "proj_1");
    expect(all.map((c) => [c.id, c.routed, c.challenge_status, c.expires_at === null ? null : Number(c.expires_at)])).toEqual([
      ["dom_blog", false, "waiting", null],
      ["dom_shop", true, "verified", 99],
    ]);
    expect((await listCustomDomainClaimsOfProject(database.db, "proj_1", "env_1b")).map((c) => c.id)).toEqual(["dom_blog"]);
    // Another project's claim of the same name is not routed (the route belongs to proj_1).
    expect((await listCustomDomainClaimsOfProject(database.db, "proj_2")).map((c) => [c.id, c.routed])).toEqual([["dom_shop2", false]]);
  });

  it("removing another workspace's pending claim leaves the verified owner's route and certificate alone", async () => {
    expect(await deleteCustomDomain(database.db, "dom_shop2")).toEqual({
      domain: "shop.example.com",
      routesRemoved: 0,
      certificatesRemoved: 0,
    });
    expect([
      await count("custom_domains"),
      await count("acme_challenges"),
      await count("frontline_routes"),
      await count("certificates"),
    ]).toEqual([2, 2, 1, 1]);
  });

  it("removing the verified claim removes its challenge, routes and certificate; an unknown claim is undefined", async () => {
    expect(await deleteCustomDomain(database.db, "dom_shop")).toEqual({
      domain: "shop.example.com",
      routesRemoved: 1,
      certificatesRemoved: 1,
    });
    expect([
      await count("custom_domains"),
      await count("acme_challenges"),
      await count("frontline_routes"),
      await count("certificates"),
    ]).toEqual([1, 1, 0, 0]);
    expect(await deleteCustomDomain(database.db, "dom_shop")).toBeUndefined();
  });
});
