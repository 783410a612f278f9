import {
  findCustomDomain,
  findEnvironmentRouteDeployment,
  markDomainVerified,
  recordVerificationCheck,
  verificationRecordName,
  type Db,
} from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import type { WorkerDeps } from "../../deps.js";
import { certificateServiceName, type CertificateServiceApi } from "../certificate-service/api.js";
import { routingServiceName, type RoutingServiceApi } from "../routing-service/api.js";
import { domainVerificationServiceName, type DomainVerificationServiceApi, type VerificationCheckResult } from "./api.js";
import { defaultDomainVerification } from "./deps.js";
import { describeMiss, lookupTxt } from "./lookup.js";

/** Object state: the current arming and when its window closes. */
const GENERATION = "generation";
const DEADLINE = "deadline";
const ATTEMPT = "attempt";

/** The claim as the steps journal it (public data only). */
interface Claim {
  id: string;
  domain: string;
  workspaceId: string;
  projectId: string;
  environmentId: string;
  status: string;
  value: string;
}

async function loadClaim(db: Db, claimId: string): Promise<Claim | null> {
  const row = await findCustomDomain(db, claimId);
  if (!row) return null;
  return {
    id: row.id,
    domain: row.domain,
    workspaceId: row.workspace_id,
    projectId: row.project_id,
    environmentId: row.environment_id,
    status: row.verification_status,
    value: row.verification_value,
  };
}

/** Where the environment's own domain points now (the custom domain follows it), if deployed yet. */
async function environmentDeployment(db: Db, claim: Claim): Promise<string | null> {
  return findEnvironmentRouteDeployment(db, { projectId: claim.projectId, environmentId: claim.environmentId }, claim.domain);
}

/** `arm`: a new recheck window from now; supersedes any schedule still pending. */
export async function armVerification(deps: WorkerDeps, ctx: restate.ObjectContext): Promise<VerificationCheckResult> {
  const settings = { ...defaultDomainVerification, ...deps.domainVerification };
  const generation = ((await ctx.get<number>(GENERATION)) ?? 0) + 1;
  ctx.set(GENERATION, generation);
  ctx.set(DEADLINE, (await ctx.date.now()) + settings.windowMs);
  ctx.set(ATTEMPT, 0);
  return runCheck(deps, ctx, generation);
}

/** `check`: one scheduled lookup; a stale generation (re-armed since) does nothing. */
export async function checkVerification(
  deps: WorkerDeps,
  ctx: restate.ObjectContext,
  generation: number,
): Promise<VerificationCheckResult> {
  if ((await ctx.get<number>(GENERATION)) !== generation) return { claimId: ctx.key, status: "superseded" };
  return runCheck(deps, ctx, generation);
}

/**
 * One check of claim `ctx.key`: looks up `_ctrl-challenge.<domain>`; when the claim's value is there,
 * marks it verified (the database refuses it if another workspace verified an overlapping name
 * first), routes it like the environment's own domain through RoutingService, and starts
 * certificate issuance. Otherwise records what was seen and schedules the next check with doubling
 * delays, until the window closes and the claim fails with the last reason.
 */
async function runCheck(deps: WorkerDeps, ctx: restate.ObjectContext, generation: number): Promise<VerificationCheckResult> {
  const settings = { ...defaultDomainVerification, ...deps.domainVerification };
  const claimId = ctx.key;
  const claim = await ctx.run("load claim", () => loadClaim(deps.db, claimId));
  if (!claim) return { claimId, status: "gone" };
  if (claim.status !== "pending_verification")
    return { claimId, domain: claim.domain, status: claim.status === "verified" ? "verified" : "failed" };

  const name = verificationRecordName(claim.domain);
  const lookup = await ctx.run("look up TXT", () => lookupTxt(name, settings.resolvers, settings.lookupTimeoutMs));
  const miss = describeMiss(name, claim.value, lookup);
  const now = await ctx.date.now();

  if (miss === undefined) {
    const marked = await ctx.run("mark verified", () => markDomainVerified(deps.db, claimId, now));
    if (marked.outcome === "conflict") {
      ctx.console.warn({ claimId, domain: claim.domain, reason: marked.reason }, "custom domain claim refused");
      return { claimId, domain: claim.domain, status: "failed", reason: marked.reason };
    }
    if (marked.outcome === "gone") return { claimId, status: "gone" };
    if (marked.outcome === "not_pending") return { claimId, domain: claim.domain, status: "failed" };
    if (marked.outcome === "verified") {
      const deploymentId = await ctx.run("find environment deployment", () => environmentDeployment(deps.db, claim));
      if (deploymentId) {
        await ctx.objectClient({ name: routingServiceName } as RoutingServiceApi, claim.projectId).assignRoutes({
          workspaceId: claim.workspaceId,
          environmentId: claim.environmentId,
          deploymentId,
          routes: [{ fqdn: claim.domain, sticky: "environment" }],
          setLive: false,
        });
      }
      ctx.objectSendClient({ name: certificateServiceName } as CertificateServiceApi, claim.domain).processChallenge({});
      ctx.console.info({ claimId, domain: claim.domain, workspaceId: claim.workspaceId, routedTo: deploymentId }, "custom domain verified");
    }
    return { claimId, domain: claim.domain, status: "verified" };
  }

  const deadline = (await ctx.get<number>(DEADLINE)) ?? now;
  if (now >= deadline) {
    const reason = `${miss} (gave up after ${Math.round(settings.windowMs / 1000)} s; retry the domain once the record exists)`;
    await ctx.run("mark failed", () => recordVerificationCheck(deps.db, claimId, reason, true, now));
    ctx.console.info({ claimId, domain: claim.domain, reason }, "custom domain verification window closed");
    return { claimId, domain: claim.domain, status: "failed", reason };
  }
  await ctx.run("record check", () => recordVerificationCheck(deps.db, claimId, miss, false, now));
  const attempt = ((await ctx.get<number>(ATTEMPT)) ?? 0) + 1;
  ctx.set(ATTEMPT, attempt);
  const delay = Math.min(settings.firstRecheckMs * 2 ** Math.min(attempt - 1, 30), settings.maxRecheckMs, Math.max(0, deadline - now));
  ctx
    .objectSendClient({ name: domainVerificationServiceName } as DomainVerificationServiceApi, claimId)
    .check({ generation }, restate.rpc.sendOpts({ delay }));
  return { claimId, domain: claim.domain, status: "pending_verification", reason: miss, nextCheckAt: now + delay };
}
