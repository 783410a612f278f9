import { sql, type Transaction } from "kysely";
import { newId } from "../ids.js";
import type { Db } from "../pool.js";
import type { Database } from "../schema.js";
import type { FrontlineRoute, Sticky } from "../tables/frontline-routes.js";

type DbOrTrx = Db | Transaction<Database>;

/** A hostname and how it follows new deployments. */
export interface RouteSpec {
  fqdn: string;
  sticky: Sticky;
}

/** Where routes being assigned point. */
export interface RouteAssignment {
  workspaceId: string;
  projectId: string;
  environmentId: string;
  deploymentId: string;
  routes: RouteSpec[];
  now: number;
}

/**
 * Points each hostname at the deployment: inserts new routes, moves existing ones. A hostname that
 * belongs to another project is left alone (hostnames are unique across the platform). Idempotent.
 * Returns the hostnames that now point at the deployment.
 */
export async function upsertRoutes(db: DbOrTrx, a: RouteAssignment): Promise<string[]> {
  if (a.routes.length === 0) return [];
  await db
    .insertInto("frontline_routes")
    .values(
      a.routes.map((r) => ({
        id: newId("route"),
        workspace_id: a.workspaceId,
        project_id: a.projectId,
        environment_id: a.environmentId,
        deployment_id: a.deploymentId,
        fully_qualified_domain_name: r.fqdn,
        sticky: r.sticky,
        created_at: a.now,
        updated_at: a.now,
      })),
    )
    .onDuplicateKeyUpdate({
      // Only a route of the same project may move; `project_id` itself is never overwritten, so
      // every IF below compares against the row's original owner.
      deployment_id: sql<string>`IF(project_id = VALUES(project_id), VALUES(deployment_id), deployment_id)`,
      environment_id: sql<string>`IF(project_id = VALUES(project_id), VALUES(environment_id), environment_id)`,
      sticky: sql<Sticky>`IF(project_id = VALUES(project_id), VALUES(sticky), sticky)`,
      updated_at: sql<number>`IF(project_id = VALUES(project_id), VALUES(updated_at), updated_at)`,
    })
    .execute();
  const rows = await db
    .selectFrom("frontline_routes")
    .select("fully_qualified_domain_name")
    .where(
      "fully_qualified_domain_name",
      "in",
      a.routes.map((r) => r.fqdn),
    )
    .where("deployment_id", "=", a.deploymentId)
    .execute();
  return rows.map((r) => r.fully_qualified_domain_name).sort();
}

/** Routes pointing at a deployment, optionally only those with one of `stickies`. */
export async function listRoutesOfDeployment(db: DbOrTrx, deploymentId: string, stickies?: Sticky[]): Promise<FrontlineRoute[]> {
  let q = db.selectFrom("frontline_routes").selectAll().where("deployment_id", "=", deploymentId);
  if (stickies) q = q.where("sticky", "in", stickies);
  return q.orderBy("fully_qualified_domain_name").execute();
}

/** Routes of a project, optionally only those with one of `stickies`. */
export async function listRoutesOfProject(db: DbOrTrx, projectId: string, stickies?: Sticky[]): Promise<FrontlineRoute[]> {
  let q = db.selectFrom("frontline_routes").selectAll().where("project_id", "=", projectId);
  if (stickies) q = q.where("sticky", "in", stickies);
  return q.orderBy("fully_qualified_domain_name").execute();
}

/** Moves the given routes (by id, within the project) to `deploymentId`; returns how many moved. */
export async function repointRoutes(
  db: DbOrTrx,
  projectId: string,
  routeIds: string[],
  deploymentId: string,
  now: number,
): Promise<number> {
  if (routeIds.length === 0) return 0;
  const result = await db
    .updateTable("frontline_routes")
    .set({ deployment_id: deploymentId, updated_at: now })
    .where("project_id", "=", projectId)
    .where("id", "in", routeIds)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Sets the project's live pointer and/or rolled-back pin. */
export async function setProjectLive(
  db: DbOrTrx,
  projectId: string,
  change: { liveDeploymentId?: string | null; isRolledBack?: boolean },
  now: number,
): Promise<void> {
  await db
    .updateTable("projects")
    .set({
      updated_at: now,
      ...(change.liveDeploymentId !== undefined ? { live_deployment_id: change.liveDeploymentId } : {}),
      ...(change.isRolledBack !== undefined ? { is_rolled_back: change.isRolledBack } : {}),
    })
    .where("id", "=", projectId)
    .execute();
}

/** The columns of a route frontline keeps in memory. */
export type RouteIndexRow = Pick<
  FrontlineRoute,
  "id" | "fully_qualified_domain_name" | "deployment_id" | "environment_id" | "project_id" | "workspace_id" | "sticky" | "updated_at"
>;

const routeIndexColumns = [
  "id",
  "fully_qualified_domain_name",
  "deployment_id",
  "environment_id",
  "project_id",
  "workspace_id",
  "sticky",
  "updated_at",
] as const;

/** Every route (frontline's full load), or with `updatedSince` only those stamped at or after it (an index range scan). */
export async function listRouteIndexRows(db: DbOrTrx, updatedSince?: number): Promise<RouteIndexRow[]> {
  let query = db.selectFrom("frontline_routes").select(routeIndexColumns);
  if (updatedSince !== undefined) query = query.where("updated_at", ">=", updatedSince);
  return query.execute();
}

/** How many routes exist (a delete shows up as a count that disagrees with what is loaded). */
export async function countRoutes(db: DbOrTrx): Promise<number> {
  const [{ n } = { n: 0 }] = (await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM frontline_routes`.execute(db)).rows;
  return Number(n);
}

/**
 * The whole route table's fingerprint (`count:xor` of a 64-bit MD5 prefix per row), the form
 * frontline's `RouteIndex.fingerprint` computes in memory. An MD5 over every row, so callers run it
 * only every few seconds.
 */
export async function readRouteFingerprint(db: DbOrTrx): Promise<string> {
  const { rows } = await sql<{ n: number | string; x: number | string | null }>`
    SELECT COUNT(*) AS n,
           BIT_XOR(CAST(CONV(LEFT(MD5(CONCAT_WS('|', id, fully_qualified_domain_name, deployment_id, environment_id, updated_at)), 16), 16, 10) AS UNSIGNED)) AS x
      FROM frontline_routes`.execute(db);
  return `${rows[0]?.n ?? 0}:${rows[0]?.x ?? 0}`;
}

/** Hostnames routed to each of `deploymentIds`, sorted per deployment (deployments without routes are absent). */
export async function listHostnamesOfDeployments(db: DbOrTrx, deploymentIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (deploymentIds.length === 0) return out;
  const rows = await db
    .selectFrom("frontline_routes")
    .select(["deployment_id", "fully_qualified_domain_name"])
    .where("deployment_id", "in", deploymentIds)
    .orderBy("fully_qualified_domain_name")
    .execute();
  for (const r of rows) {
    const list = out.get(r.deployment_id) ?? [];
    list.push(r.fully_qualified_domain_name);
    out.set(r.deployment_id, list);
  }
  return out;
}

/** The id of the route of `hostname`, or undefined when nothing routes it. */
export async function findRouteIdByHostname(db: DbOrTrx, hostname: string): Promise<string | undefined> {
  const row = await db.selectFrom("frontline_routes").select("id").where("fully_qualified_domain_name", "=", hostname).executeTakeFirst();
  return row?.id;
}

/** Which of `hostnames` route to a deployment other than `deploymentId`, with that deployment's creation time. */
export async function listOtherRouteHolders(
  db: DbOrTrx,
  hostnames: string[],
  deploymentId: string,
): Promise<{ fqdn: string; createdAt: number }[]> {
  if (hostnames.length === 0) return [];
  const rows = await db
    .selectFrom("frontline_routes as r")
    .innerJoin("deployments as d", "d.id", "r.deployment_id")
    .select(["r.fully_qualified_domain_name as fqdn", "d.created_at"])
    .where("r.fully_qualified_domain_name", "in", hostnames)
    .where("r.deployment_id", "!=", deploymentId)
    .execute();
  return rows.map((r) => ({ fqdn: r.fqdn, createdAt: Number(r.created_at) }));
}

/** The hostnames, sorted, of those of `routeIds` that route to `deploymentId`. */
export async function listHostnamesOfRoutes(db: DbOrTrx, routeIds: string[], deploymentId: string): Promise<string[]> {
  if (routeIds.length === 0) return [];
  const rows = await db
    .selectFrom("frontline_routes")
    .select("fully_qualified_domain_name")
    .where("id", "in", routeIds)
    .where("deployment_id", "=", deploymentId)
    .execute();
  return rows.map((r) => r.fully_qualified_domain_name).sort();
}

/**
 * The deployment the environment's own (environment-sticky) domain routes to, most recently moved
 * first, ignoring `exceptHostname` (the custom domain itself); null when not deployed yet.
 */
export async function findEnvironmentRouteDeployment(
  db: DbOrTrx,
  environment: { projectId: string; environmentId: string },
  exceptHostname: string,
): Promise<string | null> {
  return findServingDeployment(db, environment.environmentId, exceptHostname);
}

/**
 * The deployment the environment's shared hostnames serve now (its `environment` route, the newest
 * when several; optionally not counting `exceptHostname`), or null before its first cutover — the
 * stable side of a new rollout.
 */
export async function findServingDeployment(db: DbOrTrx, environmentId: string, exceptHostname?: string): Promise<string | null> {
  let query = db
    .selectFrom("frontline_routes")
    .select("deployment_id")
    .where("environment_id", "=", environmentId)
    .where("sticky", "=", "environment");
  if (exceptHostname !== undefined) query = query.where("fully_qualified_domain_name", "!=", exceptHostname);
  const row = await query.orderBy("updated_at", "desc").executeTakeFirst();
  return row?.deployment_id ?? null;
}
