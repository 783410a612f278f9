import { describe, expect, it } from "vitest";
import { buildDomains, isProductionEnvironment, maxBranchSlugLength, slugifyBranch } from "../src/domains.js";

// Guarantee: hostnames follow docs/wire.md exactly, so routes created by ours and by the reference agree.
describe("slugifyBranch", () => {
  it.each([
    ["main", "main"],
    ["feature/Add-Login", "feature-add-login"],
    ["fix__double--dash", "fix-double-dash"],
    ["--leading and trailing--", "leading-and-trailing"],
    ["UPPER_case.dots", "upper-case-dots"],
    ["日本語/ブランチ", ""],
    ["", ""],
    ["///", ""],
    ["a!!!b", "a-b"],
  ])("%j → %j", (branch, slug) => {
    expect(slugifyBranch(branch)).toBe(slug);
  });

  it("cuts at 80 characters and never ends with a separator", () => {
    const long = "a".repeat(79) + "/" + "b".repeat(30);
    const slug = slugifyBranch(long);
    expect(slug.length).toBeLessThanOrEqual(maxBranchSlugLength);
    expect(slug).toBe("a".repeat(79));
    expect(slugifyBranch("x".repeat(200))).toHaveLength(80);
  });
});

describe("buildDomains", () => {
  const base = {
    projectSlug: "api",
    workspaceSlug: "acme",
    environmentSlug: "preview",
    gitCommitSha: "0123456789abcdef0123456789abcdef01234567",
    gitBranch: "feature/Login",
    apexDomain: "ctrl.example.com",
    isProduction: false,
  };

  it("gives a preview deploy commit, branch and environment hostnames", () => {
    expect(buildDomains(base)).toEqual([
      { fqdn: "api-git-0123456-acme.ctrl.example.com", sticky: "none" },
      { fqdn: "api-git-feature-login-acme.ctrl.example.com", sticky: "branch" },
      { fqdn: "api-preview-acme.ctrl.example.com", sticky: "environment" },
    ]);
  });

  it("adds live routes (project hostname and custom domains) for production", () => {
    const domains = buildDomains({ ...base, environmentSlug: "production", isProduction: true, customDomains: ["WWW.Example.org"] });
    expect(domains.filter((d) => d.sticky === "live")).toEqual([
      { fqdn: "api-acme.ctrl.example.com", sticky: "live" },
      { fqdn: "www.example.org", sticky: "live" },
    ]);
    expect(domains.map((d) => d.sticky)).toEqual(["none", "branch", "environment", "live", "live"]);
  });

  it("skips the commit hostname without a usable sha and the branch hostname without a slug", () => {
    expect(buildDomains({ ...base, gitCommitSha: "", gitBranch: "" })).toEqual([
      { fqdn: "api-preview-acme.ctrl.example.com", sticky: "environment" },
    ]);
    expect(buildDomains({ ...base, gitCommitSha: "not-hex!", gitBranch: "///" }).map((d) => d.sticky)).toEqual(["environment"]);
    expect(buildDomains({ ...base, gitCommitSha: "abc12" }).map((d) => d.sticky)).toEqual(["branch", "environment"]);
  });

  it("normalises the apex and case and drops duplicates", () => {
    const domains = buildDomains({
      ...base,
      apexDomain: ".Ctrl.Localhost.",
      projectSlug: "API",
      environmentSlug: "production",
      isProduction: true,
      customDomains: ["api-acme.ctrl.localhost"],
    });
    expect(domains.map((d) => d.fqdn)).toEqual([
      "api-git-0123456-acme.ctrl.localhost",
      "api-git-feature-login-acme.ctrl.localhost",
      "api-production-acme.ctrl.localhost",
      "api-acme.ctrl.localhost",
    ]);
  });

  it("knows production by its slug", () => {
    expect(isProductionEnvironment("production")).toBe(true);
    expect(isProductionEnvironment("preview")).toBe(false);
  });
});
