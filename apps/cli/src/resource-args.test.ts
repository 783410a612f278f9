import { describe, expect, it } from "vitest";
import { parseCliArgs, UsageError } from "./args.js";
import { chooseEnvironment } from "./commands/deploy.js";
import { parseExpiry } from "./resource-args.js";

describe("ctrl projects / env / keys arguments", () => {
  it("parses each action with its flags", () => {
    expect(parseCliArgs(["projects", "create", "shop", "--name", "Shop", "--default-branch", "trunk"])).toMatchObject({
      command: "projects",
      action: "create",
      flags: { target: "shop", name: "Shop", defaultBranch: "trunk", force: false },
    });
    expect(parseCliArgs(["projects", "rm", "proj_1", "--force"])).toMatchObject({ action: "rm", flags: { target: "proj_1", force: true } });
    expect(parseCliArgs(["env", "update", "staging", "--regions", "eu,us", "--replicas", "0", "--health-path", "/h"])).toMatchObject({
      command: "environments",
      action: "update",
      flags: { slug: "staging", settings: { regions: ["eu", "us"], replicas: 0, healthCheckPath: "/h" } },
    });
    expect(parseCliArgs(["env", "update", "staging", "--regions", ""])).toMatchObject({ flags: { settings: { regions: [] } } });
    expect(parseCliArgs(["env", "policy", "get"])).toMatchObject({ command: "env", action: "get" });
    expect(
      parseCliArgs(["keys", "create", "--name", "ci", "--permission", "a.b.c", "--permission", "workspace.manage_keys"]),
    ).toMatchObject({
      command: "keys",
      flags: { name: "ci", permissions: ["a.b.c", "workspace.manage_keys"] },
    });
    expect(parseCliArgs(["keys", "revoke", "key_1"])).toMatchObject({ action: "revoke", flags: { keyId: "key_1" } });
  });

  it("refuses what does not fit with a usage error", () => {
    for (const argv of [
      ["projects"],
      ["projects", "create"],
      ["projects", "ls", "extra"],
      ["projects", "get", "proj_1", "--force"],
      ["projects", "update", "proj_1"],
      ["env", "create"],
      ["env", "ls", "--replicas", "2"],
      ["env", "update", "prod"],
      ["env", "create", "x", "--cpu", "-1"],
      ["env", "what"],
      ["keys", "create", "--permission", "x"],
      ["keys", "ls", "--name", "x"],
      ["keys", "revoke"],
    ])
      expect(() => parseCliArgs(argv), argv.join(" ")).toThrow(UsageError);
  });

  it("reads --expires as a duration from now or a date", () => {
    expect(parseExpiry("30d", 1_000)).toBe(1_000 + 30 * 86_400_000);
    expect(parseExpiry("90m", 0)).toBe(90 * 60_000);
    expect(parseExpiry("2027-01-01", 0)).toBe(Date.parse("2027-01-01"));
    expect(() => parseExpiry("tomorrow", 0)).toThrow();
  });
});

describe("chooseEnvironment (ctrl deploy without --env)", () => {
  it("deploys the default branch to production and any other branch to preview unless --prod", () => {
    expect(chooseEnvironment({ prod: false, branch: "main", defaultBranch: "main" })).toBe("production");
    expect(chooseEnvironment({ prod: false, branch: "feature/x", defaultBranch: "main" })).toBe("preview");
    expect(chooseEnvironment({ prod: true, branch: "feature/x" })).toBe("production");
    expect(chooseEnvironment({ prod: false })).toBe("production");
    expect(chooseEnvironment({ env: "staging", prod: false, branch: "feature/x" })).toBe("staging");
    expect(chooseEnvironment({ env: "production", prod: true })).toBe("production");
    expect(() => chooseEnvironment({ env: "preview", prod: true })).toThrow(UsageError);
  });

  it("parses --prod and marks a deploy without --env as chosen from the branch", () => {
    const parsed = parseCliArgs(["deploy", "--prod"]);
    expect(parsed).toMatchObject({ command: "deploy", flags: { prod: true, envFromBranch: true } });
    expect(parseCliArgs(["deploy", "--env", "preview"])).not.toHaveProperty("flags.envFromBranch");
  });
});
