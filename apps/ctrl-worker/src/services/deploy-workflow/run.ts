import { setDeploymentStatus, terminalDeploymentStatuses, type DeploymentStatusChange } from "@ctrl/db";
import * as restate from "@restatedev/restate-sdk";
import type { WorkerDeps } from "../../deps.js";
import { buildDomains, isProductionEnvironment, type DomainSpec } from "../../domains.js";
import { terminal } from "../../errors.js";
import type { WorkerSettings } from "../../settings.js";
import { DeployCancelled, DeployFailure, StepRunner, cancelPromiseName, type CancelRequest } from "../../steps.js";
import { deploymentServiceName, type DeploymentServiceApi, type SwitchResult } from "../deployment-service/api.js";
import type { DeployRequest, DeployResult } from "./api.js";
import { runBuildStep } from "./build-step.js";
import { loadDeployMeta } from "./metadata.js";
import { scrapeOpenApi } from "./openapi.js";
import { runRollout, settleRollout } from "./rollout/run.js";
import { resolveRegions, stopTopology } from "./topology.js";

/**
 * `DeployWorkflow.run` (key = deployment id): metadata → build (context only) → topology per region
 * → sentinel → readiness → OpenAPI (optional) → domains → cutover → `ready`.
 *
 * Business outcomes are returned, not thrown: a failure at any step leaves the row `failed` with
 * the step, a structured reason and the message, and its topology `stopped`; a cancel leaves it
 * `cancelled` with its topology stopped. Transient errors (database down, …) are thrown and
 * retried by Restate from the last journaled step.
 */
export async function runDeploy(
  ctx: restate.WorkflowContext,
  deps: WorkerDeps,
  settings: WorkerSettings,
  req: DeployRequest,
): Promise<DeployResult> {
  const deploymentId = ctx.key;
  if (req?.deploymentId && req.deploymentId !== deploymentId) {
    throw terminal("invalid_argument", `request deploymentId ${req.deploymentId} differs from the workflow key ${deploymentId}`);
  }
  const db = deps.db;
  const steps = new StepRunner(ctx, db, deploymentId);
  const setStatus = async (change: DeploymentStatusChange) => {
    const now = await ctx.date.now();
    await ctx.run(`status ${change.status}`, () => setDeploymentStatus(db, deploymentId, change, now));
  };

  try {
    const meta = await steps.step("metadata", "loading deployment", async () => {
      const m = await ctx.run("load deployment", () => loadDeployMeta(db, deploymentId));
      if (!m)
        throw new DeployFailure("invalid_deployment", `deployment ${deploymentId} or its project, environment or workspace does not exist`);
      return {
        value: m,
        message: `${m.sourceType === "image" ? "image" : "build context"} deploy of ${m.projectSlug} to ${m.environmentSlug}`,
      };
    });
    // A row already finished (e.g. cancelled before the run started) is reported, not redone.
    if (terminalDeploymentStatuses.includes(meta.status)) return { deploymentId, status: meta.status };

    if (meta.sourceType === "build_context") {
      await setStatus({ status: "building" });
      const built = await steps.step("build", "building the context", async () => {
        if (!meta.buildContextPath) throw new DeployFailure("invalid_deployment", "build context deploy without a build context path");
        const result = await runBuildStep(ctx, {
          deploymentId,
          projectId: meta.projectId,
          contextKey: meta.buildContextPath,
          dockerfilePath: meta.dockerfilePath,
        });
        return { value: result, message: `built ${result.image}` };
      });
      await setStatus({ status: "deploying", image: built.image, buildId: built.buildId });
    } else {
      if (!meta.image) throw new DeployFailure("invalid_deployment", "image deploy without an image");
      await setStatus({ status: "deploying" });
    }

    const regions = resolveRegions(meta.environmentRegions, settings.regions);
    if ("error" in regions) throw new DeployFailure("invalid_deployment", regions.error);

    const rollout = await runRollout(ctx, deps, settings, steps, meta, regions.regions);
    if (rollout.ended) return rollout.result;
    const ready = rollout;

    await steps.step("openapi", `fetching ${settings.openapiPath}`, async () => {
      const address = ready.runningAddress;
      if (!address) return { value: undefined, status: "skipped", message: "no running instance address reported" };
      const now = await ctx.date.now();
      const outcome = await ctx.run("scrape openapi", () =>
        scrapeOpenApi(db, deploymentId, address, {
          path: settings.openapiPath,
          timeoutMs: settings.openapiTimeoutMs,
          maxBytes: settings.openapiMaxBytes,
          now,
        }),
      );
      return outcome.ok
        ? { value: undefined, message: `stored ${outcome.bytes} bytes from ${outcome.url}` }
        : { value: undefined, status: "skipped", message: `skipped: ${outcome.reason}` };
    });

    const domains = await steps.step("domains", "building hostnames", async () => {
      const production = isProductionEnvironment(meta.environmentSlug);
      const customDomains = production
        ? await ctx.run("load custom domains", async () =>
            (
              await db
                .selectFrom("custom_domains")
                .select("domain")
                .where("environment_id", "=", meta.environmentId)
                .where("verification_status", "=", "verified")
                .orderBy("domain")
                .execute()
            ).map((d) => d.domain),
          )
        : [];
      const list: DomainSpec[] = buildDomains({
        projectSlug: meta.projectSlug,
        workspaceSlug: meta.workspaceSlug,
        environmentSlug: meta.environmentSlug,
        gitCommitSha: meta.gitCommitSha,
        gitBranch: meta.gitBranch,
        apexDomain: settings.apexDomain,
        isProduction: production,
        customDomains,
      });
      return { value: list, message: list.map((d) => d.fqdn).join(", ") };
    });

    const switched = await steps.step("cutover", "assigning routes", async () => {
      let result: SwitchResult;
      try {
        result = await ctx
          .objectClient<DeploymentServiceApi>({ name: deploymentServiceName }, meta.projectId)
          .cutover({ deploymentId, domains });
      } catch (err) {
        if (err instanceof restate.TerminalError && !(err instanceof restate.CancelledError))
          throw new DeployFailure("cutover_rejected", err.message);
        throw err;
      }
      const held = result.heldHostnames?.length
        ? `; left in place (rolled-back pin or a newer deployment): ${result.heldHostnames.join(", ")}`
        : "";
      return { value: result, message: `routed ${result.repointedHostnames.join(", ")}${held}` };
    });

    await rollout.finish();
    await setStatus({ status: "ready", errorMessage: null, failedStep: null, failureReason: null });
    ctx.console.info({ deploymentId, projectId: meta.projectId, hostnames: switched.repointedHostnames }, "deployment ready");
    return { deploymentId, status: "ready", hostnames: switched.repointedHostnames };
  } catch (err) {
    await settleRollout(ctx, db, deploymentId, err);
    if (err instanceof DeployCancelled || err instanceof restate.CancelledError) {
      return finishCancelled(ctx, deps, steps, deploymentId);
    }
    if (err instanceof restate.TerminalError) {
      const reason = err instanceof DeployFailure ? err.reason : "step_failed";
      const failedStep = (err instanceof DeployFailure ? err.failedStep : undefined) ?? steps.current ?? "metadata";
      await stopTopology(ctx, db, deploymentId);
      await setStatus({ status: "failed", errorMessage: err.message, failedStep, failureReason: reason });
      ctx.console.warn({ deploymentId, failedStep, reason, error: err.message }, "deployment failed");
      return { deploymentId, status: "failed", failedStep, reason, errorMessage: err.message };
    }
    throw err;
  }
}

/** Stops the topology and marks the row cancelled (with the reason given to `cancel`, if any). */
async function finishCancelled(
  ctx: restate.WorkflowContext,
  deps: WorkerDeps,
  steps: StepRunner,
  deploymentId: string,
): Promise<DeployResult> {
  const request = await ctx.promise<CancelRequest>(cancelPromiseName).peek();
  const errorMessage = `cancelled${request?.reason ? `: ${request.reason}` : ""}`;
  await stopTopology(ctx, deps.db, deploymentId);
  const now = await ctx.date.now();
  await ctx.run("status cancelled", () =>
    setDeploymentStatus(deps.db, deploymentId, { status: "cancelled", errorMessage, failedStep: steps.current ?? null }, now),
  );
  ctx.console.info({ deploymentId, step: steps.current }, "deployment cancelled");
  return { deploymentId, status: "cancelled", errorMessage };
}
