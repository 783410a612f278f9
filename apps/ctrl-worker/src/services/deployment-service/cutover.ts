import { findDeploymentById, listOtherRouteHolders, listVerifiedCustomDomainNames, loadDeploymentContext, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { buildDomains, isProductionEnvironment, type DomainSpec } from "../../domains.js";
import { terminal } from "../../errors.js";
import type { WorkerSettings } from "../../settings.js";
import { routingServiceName, type RoutingServiceApi } from "../routing-service/api.js";
import type { CutoverRequest, SwitchResult } from "./api.js";
import { reject, type Checked } from "./load.js";

interface CutoverPlan {
  workspaceId: string;
  environmentId: string;
  /** Routes to assign now. */
  assign: DomainSpec[];
  /** environment/live routes held back by the rolled-back pin. */
  held: string[];
  setLive: boolean;
}

/**
 * Decides what a cutover assigns. Commit and branch routes always move to the new deployment;
 * environment routes, live routes and the live pointer (production only) only while the project
 * is not rolled back — the pin keeps them on the rollback target until a promote. A sticky route
 * or live pointer already held by a deployment created later is never taken back.
 */
export async function planCutover(db: Db, projectId: string, req: CutoverRequest, apexDomain: string): Promise<Checked<CutoverPlan>> {
  if (!req?.deploymentId) return reject("invalid_argument", "deploymentId is required");
  const c = await loadDeploymentContext(db, req.deploymentId);
  if (!c) return reject("not_found", `deployment ${req.deploymentId} not found`);
  if (c.deployment.project_id !== projectId)
    return reject("invalid_argument", `deployment ${c.deployment.id} does not belong to project ${projectId}`);
  if (c.deployment.status !== "deploying" && c.deployment.status !== "ready") {
    return reject(
      "failed_precondition",
      `deployment ${c.deployment.id} is ${c.deployment.status}; only a deploying deployment can take routes`,
    );
  }
  const production = isProductionEnvironment(c.environment.slug);
  // Custom domains attached to the environment (DomainService) follow it like its own domain, once
  // their owner proved control (an unverified claim is never routed).
  const customDomains = await listVerifiedCustomDomainNames(db, c.deployment.environment_id);
  const domains = [
    ...(req.domains ??
      buildDomains({
        projectSlug: c.project.slug,
        workspaceSlug: c.workspace.slug,
        environmentSlug: c.environment.slug,
        gitCommitSha: c.deployment.git_commit_sha,
        gitBranch: c.deployment.git_branch,
        apexDomain,
        isProduction: production,
      })),
    ...customDomains.map((fqdn): DomainSpec => ({ fqdn, sticky: "environment" })),
  ];
  const pinned = Boolean(Number(c.project.is_rolled_back));
  const pinnedSticky = (d: DomainSpec) => d.sticky === "environment" || d.sticky === "live";
  // Concurrent deploys can reach cutover out of order: a sticky route (or the live pointer) held
  // by a newer deployment stays with it, so the last *created* deploy wins, not the last to finish.
  const newer = await newerHolders(
    db,
    c.deployment.id,
    c.deployment.created_at,
    domains.filter((d) => d.sticky !== "none").map((d) => d.fqdn),
  );
  const liveIsNewer = c.project.live_deployment_id ? await newer.liveNewer(c.project.live_deployment_id) : false;
  const held = domains.filter((d) => (pinned && pinnedSticky(d)) || newer.fqdns.has(d.fqdn));
  return {
    ok: true,
    plan: {
      workspaceId: c.deployment.workspace_id,
      environmentId: c.deployment.environment_id,
      assign: domains.filter((d) => !held.includes(d)),
      held: held.map((d) => d.fqdn),
      setLive: production && !pinned && !liveIsNewer,
    },
  };
}

/** Which of `fqdns` point at a deployment created after ours, and a check for the live pointer. */
async function newerHolders(db: Db, deploymentId: string, createdAt: number, fqdns: string[]) {
  const rows = await listOtherRouteHolders(db, fqdns, deploymentId);
  return {
    fqdns: new Set(rows.filter((r) => r.createdAt > createdAt).map((r) => r.fqdn)),
    liveNewer: async (liveId: string) => {
      if (liveId === deploymentId) return false;
      const live = await findDeploymentById(db, liveId);
      return live !== undefined && Number(live.created_at) > createdAt;
    },
  };
}

/**
 * `DeploymentService.cutover` (key = project), called by a deploy once its instances are ready:
 * assigns the deployment's routes through RoutingService in one transaction.
 */
export async function cutover(ctx: restate.ObjectContext, db: Db, settings: WorkerSettings, req: CutoverRequest): Promise<SwitchResult> {
  const checked = await ctx.run("plan cutover", () => planCutover(db, ctx.key, req, settings.apexDomain));
  if (!checked.ok) throw terminal(checked.code, checked.message);
  const { plan } = checked;
  const result = await ctx.objectClient<RoutingServiceApi>({ name: routingServiceName }, ctx.key).assignRoutes({
    workspaceId: plan.workspaceId,
    environmentId: plan.environmentId,
    deploymentId: req.deploymentId,
    routes: plan.assign,
    setLive: plan.setLive,
  });
  ctx.console.info({ projectId: ctx.key, deploymentId: req.deploymentId, hostnames: result.hostnames, held: plan.held }, "cut over");
  return {
    projectId: ctx.key,
    liveDeploymentId: result.liveDeploymentId,
    isRolledBack: result.isRolledBack,
    repointedHostnames: result.hostnames,
    heldHostnames: plan.held,
  };
}
