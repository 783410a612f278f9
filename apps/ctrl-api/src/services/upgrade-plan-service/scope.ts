import { Code, ConnectError } from "@connectrpc/connect";
import type { PlanScope, UpgradePlan } from "@ctrl/db";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { UpgradePlanSchema } from "@ctrl/proto";
import { requireProjectAccess, type Principal } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";

/** Root-key permission of UpgradePlanService: `project.<id|*>.manage_upgrade_plans`. */
export const manageUpgradePlans = "manage_upgrade_plans";

/** A plan name: what an app's `halt_intent.plan_name` says (docs/halt-contract.md). */
const planNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Checks a plan name (`field` names it in the error). */
export function requirePlanName(name: string, field = "name"): string {
  const n = name.trim();
  if (!planNamePattern.test(n))
    throw new ConnectError(`${field} must match ${planNamePattern} (e.g. v2 or upgrade-1200)`, Code.InvalidArgument);
  return n;
}

/**
 * The project and environment (slug, default `production`) a request names, after checking that
 * `principal` may manage their plans. A missing project and one of another workspace are the same
 * `not_found`.
 */
export async function resolvePlanScope(
  deps: ApiDeps,
  principal: Principal | undefined,
  projectId: string,
  environmentSlug: string,
): Promise<PlanScope & { environmentSlug: string }> {
  const id = projectId.trim();
  if (!id || id.length > 64) throw new ConnectError("project_id is required", Code.InvalidArgument);
  const slug = environmentSlug.trim() || "production";
  const project = await deps.db.selectFrom("projects").select(["id", "workspace_id"]).where("id", "=", id).executeTakeFirst();
  const notFound = `project ${id} not found`;
  if (!project) throw new ConnectError(notFound, Code.NotFound);
  requireProjectAccess(principal, project, manageUpgradePlans, notFound);
  const env = await deps.db
    .selectFrom("environments")
    .select("id")
    .where("project_id", "=", id)
    .where("slug", "=", slug)
    .executeTakeFirst();
  if (!env) throw new ConnectError(`environment ${slug} of project ${id} not found`, Code.NotFound);
  return { workspaceId: project.workspace_id, projectId: id, environmentId: env.id, environmentSlug: slug };
}

/** Who wrote a plan version, for its history. */
export function principalName(principal: Principal | undefined): string {
  if (!principal) return "unknown";
  if (principal.kind === "root_key") return `root_key:${principal.keyId}`;
  return principal.kind;
}

/** The proto `UpgradePlan`. */
export function planMessage(p: UpgradePlan): MessageInitShape<typeof UpgradePlanSchema> {
  return {
    name: p.name,
    image: p.image,
    minHeight: BigInt(p.minHeight ?? 0),
    version: p.version,
    createdBy: p.createdBy,
    createdAt: BigInt(p.createdAt),
  };
}
