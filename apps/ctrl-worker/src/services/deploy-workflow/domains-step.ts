import { listVerifiedCustomDomainNames } from "@ctrl/db";
import { buildDomains, isProductionEnvironment, type DomainSpec } from "../../domains.js";
import type { DeployRun } from "./deploy-run.js";
import type { DeployMeta } from "./metadata.js";

/** Step `domains`: the deployment's hostnames, plus the environment's verified custom domains in production. */
export function domainsStep(run: DeployRun, meta: DeployMeta): Promise<DomainSpec[]> {
  const { ctx, db } = run;
  return run.steps.step("domains", "building hostnames", async () => {
    const production = isProductionEnvironment(meta.environmentSlug);
    const customDomains = production
      ? await ctx.run("load custom domains", () => listVerifiedCustomDomainNames(db, meta.environmentId))
      : [];
    const list: DomainSpec[] = buildDomains({
      projectSlug: meta.projectSlug,
      workspaceSlug: meta.workspaceSlug,
      environmentSlug: meta.environmentSlug,
      gitCommitSha: meta.gitCommitSha,
      gitBranch: meta.gitBranch,
      apexDomain: run.settings.apexDomain,
      isProduction: production,
      customDomains,
    });
    return { value: list, message: list.map((d) => d.fqdn).join(", ") };
  });
}
