/**
 * Hostnames of a deployment (docs/wire.md "Domains for a deployment"). Pure functions: the deploy
 * workflow computes the list once, journals it, and hands it to `DeploymentService.cutover`.
 */

/** How a hostname follows new deployments (mirrors `frontline_routes.sticky`). */
export type DomainSticky = "none" | "branch" | "environment" | "live";

/** One hostname to route to a deployment. */
export interface DomainSpec {
  fqdn: string;
  sticky: DomainSticky;
}

/** The longest branch slug kept in a hostname label. */
export const maxBranchSlugLength = 80;

/**
 * A branch name as a DNS label part: lowercase, every run of non-alphanumerics becomes one `-`,
 * no leading or trailing `-`, at most 80 characters. Empty when nothing alphanumeric is left.
 */
export function slugifyBranch(branch: string): string {
  const collapsed = branch
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "");
  return collapsed.slice(0, maxBranchSlugLength).replace(/-+$/, "");
}

/** Inputs of {@link buildDomains}: slugs and git facts of one deployment. */
export interface DomainInput {
  projectSlug: string;
  workspaceSlug: string;
  environmentSlug: string;
  gitCommitSha: string;
  gitBranch: string;
  apexDomain: string;
  /** Production deploys also get the live routes. */
  isProduction: boolean;
  /** Custom domains of the environment: live routes of a production deploy. */
  customDomains?: string[];
}

/** True for the environment whose deploys take the project's live routes. */
export function isProductionEnvironment(environmentSlug: string): boolean {
  return environmentSlug === "production";
}

/**
 * The domain list of a deployment under apex `D`:
 * - per commit `<project>-git-<sha7>-<workspace>.D` (sticky none), when a sha is known;
 * - per branch `<project>-git-<branch-slug>-<workspace>.D` (sticky branch), when the branch has a slug;
 * - per environment `<project>-<env>-<workspace>.D` (sticky environment);
 * - production only, sticky live: `<project>-<workspace>.D` and the environment's custom domains.
 *
 * Hostnames are lowercased and de-duplicated (first occurrence wins).
 */
export function buildDomains(input: DomainInput): DomainSpec[] {
  const apex = input.apexDomain.toLowerCase().replace(/^\.+|\.+$/g, "");
  const project = input.projectSlug.toLowerCase();
  const workspace = input.workspaceSlug.toLowerCase();
  const out: DomainSpec[] = [];
  const sha = input.gitCommitSha.trim().toLowerCase();
  if (/^[0-9a-f]{7,}$/.test(sha)) out.push({ fqdn: `${project}-git-${sha.slice(0, 7)}-${workspace}.${apex}`, sticky: "none" });
  const branch = slugifyBranch(input.gitBranch);
  if (branch) out.push({ fqdn: `${project}-git-${branch}-${workspace}.${apex}`, sticky: "branch" });
  out.push({ fqdn: `${project}-${input.environmentSlug.toLowerCase()}-${workspace}.${apex}`, sticky: "environment" });
  if (input.isProduction) {
    out.push({ fqdn: `${project}-${workspace}.${apex}`, sticky: "live" });
    for (const domain of input.customDomains ?? []) out.push({ fqdn: domain.toLowerCase(), sticky: "live" });
  }
  const seen = new Set<string>();
  return out.filter((d) => (seen.has(d.fqdn) ? false : (seen.add(d.fqdn), true)));
}
