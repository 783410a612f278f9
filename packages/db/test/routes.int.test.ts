/**
 * Route queries against a real database: an upsert moves a hostname only within its project (a
 * hostname is one route platform-wide); repoints are scoped to the project; frontline's
 * incremental load, count and whole-table checksum see every change; the lookups beside them
 * filter by deployment, route id, stickiness and exclude the hostname they are told to.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  countRoutes,
  findEnvironmentRouteDeployment,
  findRouteIdByHostname,
  listHostnamesOfDeployments,
  listHostnamesOfRoutes,
  listOtherRouteHolders,
  listRouteIndexRows,
  listRoutesOfDeployment,
  listRoutesOfProject,
  readRouteFingerprint,
  repointRoutes,
  upsertRoutes,
} from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing.js";
import { seedDeployment, seedProject, seedRoute } from "./helpers.js";

let database: TestDatabase;
const p1 = { workspace_id: "ws_1", project_id: "proj_1", environment_id: "env_1" };

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  await seedProject(db, { workspaceId: "ws_1", projectId: "proj_1", environmentIds: [{ id: "env_1", slug: "production" }] });
  await seedProject(db, { workspaceId: "ws_2", projectId: "proj_2", environmentIds: [{ id: "env_2", slug: "production" }] });
  await seedDeployment(db, { ...p1, id: "d_old", created_at: 10 });
  await seedDeployment(db, { ...p1, id: "d_new", created_at: 20 });
  await seedDeployment(db, { workspace_id: "ws_2", project_id: "proj_2", environment_id: "env_2", id: "d_other", created_at: 30 });
  await seedRoute(db, {
    id: "r_other",
    fully_qualified_domain_name: "taken.example.com",
    deployment_id: "d_other",
    environment_id: "env_2",
    workspace_id: "ws_2",
    project_id: "proj_2",
  });
});

afterAll(async () => {
  await database?.drop();
});

const assign = (deploymentId: string, now: number, routes: { fqdn: string; sticky: "none" | "branch" | "environment" | "live" }[]) =>
  upsertRoutes(database.db, { workspaceId: "ws_1", projectId: "proj_1", environmentId: "env_1", deploymentId, routes, now });

describe("writes", () => {
  it("inserts and moves routes of the project, leaves another project's hostname alone, and is idempotent", async () => {
    expect(
      await assign("d_old", 100, [
        { fqdn: "a.example.com", sticky: "environment" },
        { fqdn: "b.example.com", sticky: "none" },
      ]),
    ).toEqual(["a.example.com", "b.example.com"]);
    expect(
      await assign("d_new", 200, [
        { fqdn: "a.example.com", sticky: "environment" },
        { fqdn: "taken.example.com", sticky: "environment" },
      ]),
    ).toEqual(["a.example.com"]);
    expect(await assign("d_new", 200, [{ fqdn: "a.example.com", sticky: "environment" }])).toEqual(["a.example.com"]);
    expect((await listRoutesOfDeployment(database.db, "d_other")).map((r) => r.fully_qualified_domain_name)).toEqual(["taken.example.com"]);
    expect((await listRoutesOfDeployment(database.db, "d_old")).map((r) => r.fully_qualified_domain_name)).toEqual(["b.example.com"]);
    expect((await listRoutesOfProject(database.db, "proj_1", ["environment"])).map((r) => r.fully_qualified_domain_name)).toEqual([
      "a.example.com",
    ]);
  });

  it("repoints only routes of the project", async () => {
    const a = await findRouteIdByHostname(database.db, "a.example.com");
    expect(await repointRoutes(database.db, "proj_1", [a!, "r_other"], "d_old", 300)).toBe(1);
    expect((await listRoutesOfDeployment(database.db, "d_other")).map((r) => r.id)).toEqual(["r_other"]);
    expect(await repointRoutes(database.db, "proj_1", [], "d_old", 300)).toBe(0);
  });
});

describe("frontline's route loads", () => {
  it("loads all routes or those stamped since a time, counts them, and checksums every change", async () => {
    expect((await listRouteIndexRows(database.db)).map((r) => r.fully_qualified_domain_name).sort()).toEqual([
      "a.example.com",
      "b.example.com",
      "taken.example.com",
    ]);
    expect((await listRouteIndexRows(database.db, 300)).map((r) => r.fully_qualified_domain_name)).toEqual(["a.example.com"]);
    expect(await listRouteIndexRows(database.db, 301)).toEqual([]);
    expect(await countRoutes(database.db)).toBe(3);
    const before = await readRouteFingerprint(database.db);
    expect(before).toMatch(/^3:\d+$/);
    await repointRoutes(database.db, "proj_1", [(await findRouteIdByHostname(database.db, "a.example.com"))!], "d_new", 300);
    expect(await readRouteFingerprint(database.db)).not.toBe(before);
  });
});

describe("lookups", () => {
  it("groups hostnames by deployment, sorted, absent for deployments without routes", async () => {
    const byDeployment = await listHostnamesOfDeployments(database.db, ["d_old", "d_new", "d_none"]);
    expect(Object.fromEntries(byDeployment)).toEqual({ d_old: ["b.example.com"], d_new: ["a.example.com"] });
    expect((await listHostnamesOfDeployments(database.db, [])).size).toBe(0);
  });

  it("finds a route by hostname, undefined when nothing routes it", async () => {
    expect(await findRouteIdByHostname(database.db, "taken.example.com")).toBe("r_other");
    expect(await findRouteIdByHostname(database.db, "nobody.example.com")).toBeUndefined();
  });

  it("lists the hostnames' holders other than the deployment, with their creation time", async () => {
    const holders = await listOtherRouteHolders(database.db, ["a.example.com", "b.example.com", "taken.example.com"], "d_old");
    expect(holders.sort((x, y) => x.fqdn.localeCompare(y.fqdn))).toEqual([
      { fqdn: "a.example.com", createdAt: 20 },
      { fqdn: "taken.example.com", createdAt: 30 },
    ]);
    expect(await listOtherRouteHolders(database.db, [], "d_old")).toEqual([]);
  });

  it("names the hostnames of the given routes that point at the deployment", async () => {
    const ids = (await listRoutesOfProject(database.db, "proj_1")).map((r) => r.id);
    expect(await listHostnamesOfRoutes(database.db, [...ids, "r_other"], "d_new")).toEqual(["a.example.com"]);
    expect(await listHostnamesOfRoutes(database.db, [], "d_new")).toEqual([]);
  });

  it("finds where the environment's own domain points, excluding the given hostname, most recently moved first", async () => {
    const env = { projectId: "proj_1", environmentId: "env_1" };
    expect(await findEnvironmentRouteDeployment(database.db, env, "custom.example.com")).toBe("d_new");
    expect(await findEnvironmentRouteDeployment(database.db, env, "a.example.com")).toBeNull();
    await seedRoute(database.db, {
      ...p1,
      id: "r_env2",
      fully_qualified_domain_name: "env.example.com",
      deployment_id: "d_old",
      sticky: "environment",
      updated_at: 400,
    });
    expect(await findEnvironmentRouteDeployment(database.db, env, "custom.example.com")).toBe("d_old");
    // proj_2's only route is not environment-sticky (a commit or branch hostname does not count).
    expect(await findEnvironmentRouteDeployment(database.db, { projectId: "proj_2", environmentId: "env_2" }, "x")).toBeNull();
  });
});
