/**
 * `ctrl projects …`, `ctrl env create|ls|update|rm` and `ctrl keys …` against a real ctrl-api (real
 * HTTP, real MariaDB), through `runCli` in-process (the binary's entry without a child per call).
 *
 * Guarantees: each command's `--json` is one document with one shape per resource (the `/v2` data:
 * `project`, `environment`, `key` objects with the same keys everywhere); the human output has a
 * header row; API refusals exit 1 with the reason, usage mistakes exit 2; a key revoked with
 * `ctrl keys revoke` is refused on its next command; `ctrl env policy` keeps working beside them;
 * `ctrl deploy` without `--env` sends the default branch to production, others to preview unless `--prod`.
 */
import { createRootKey } from "@ctrl/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutput, runCli } from "@ctrl/cli";
import { startTestStack, type TestStack } from "../src/index.js";

let stack: TestStack;
let admin: string;
beforeAll(async () => {
  // The worker runs in-process so that `ctrl deploy --no-wait` is accepted (the deploy itself waits for an agent that never comes).
  stack = await startTestStack();
  admin = (
    await createRootKey(stack.database.db, {
      workspaceId: stack.seed.workspaceId,
      name: "admin",
      permissions: ["workspace.*", "project.*.*"],
      now: Date.now(),
    })
  ).key;
}, 90_000);
afterAll(async () => stack?.close());

/** Runs `ctrl args…` in-process against the stack with `key`; stdout/stderr collected. */
async function ctrl(args: string[], key = admin, projectId?: string) {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) => ({ write: (chunk: string) => (append(chunk), true) }) as unknown as NodeJS.WriteStream;
  const out = createOutput(
    args.includes("--json"),
    sink((t) => (stdout += t)),
    sink((t) => (stderr += t)),
  );
  const code = await runCli(
    args,
    { CTRL_API_URL: stack.apiUrl, CTRL_ROOT_KEY: key, ...(projectId ? { CTRL_PROJECT_ID: projectId } : {}) },
    out,
  );
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}

const projectShape = {
  id: expect.stringMatching(/^proj_/),
  workspaceId: expect.any(String),
  name: expect.any(String),
  slug: expect.any(String),
  defaultBranch: expect.any(String),
  liveDeploymentId: expect.any(String),
  isRolledBack: expect.any(Boolean),
  createdAt: expect.any(Number),
  updatedAt: expect.any(Number),
};
const environmentShape = {
  id: expect.stringMatching(/^env_/),
  projectId: expect.stringMatching(/^proj_/),
  slug: expect.any(String),
  regions: expect.any(Array),
  replicas: expect.any(Number),
  cpuMillicores: expect.any(Number),
  memoryMib: expect.any(Number),
  healthCheckPath: expect.any(String),
  createdAt: expect.any(Number),
  updatedAt: expect.any(Number),
};
const keyShape = {
  id: expect.stringMatching(/^key_/),
  workspaceId: expect.any(String),
  name: expect.any(String),
  start: expect.any(String),
  permissions: expect.any(Array),
  expiresAt: expect.any(Number),
  revokedAt: expect.any(Number),
  createdAt: expect.any(Number),
};

describe("ctrl projects", () => {
  it("create, get, ls, update and rm with --json, one shape per resource", async () => {
    const created = await ctrl(["projects", "create", "cli-app", "--name", "CLI app", "--default-branch", "trunk", "--json"]);
    expect(created.code, created.stdout).toBe(0);
    expect(created.stderr).toBe("");
    const { project, environments } = created.json();
    expect(project).toEqual({ ...projectShape, slug: "cli-app", name: "CLI app", defaultBranch: "trunk" });
    expect(environments).toEqual([
      { ...environmentShape, slug: "preview" },
      { ...environmentShape, slug: "production" },
    ]);

    const got = await ctrl(["projects", "get", project.id, "--json"]);
    expect(got.json()).toEqual({ project, environments });
    const listed = await ctrl(["projects", "ls", "--json"]);
    expect(listed.json()).toEqual({ projects: expect.arrayContaining([project]), nextPageToken: "" });
    for (const p of listed.json().projects) expect(p).toEqual(projectShape);
    const updated = await ctrl(["projects", "update", project.id, "--default-branch", "main", "--json"]);
    expect(updated.json()).toEqual({ project: { ...project, defaultBranch: "main", updatedAt: expect.any(Number) } });
    const removed = await ctrl(["projects", "rm", project.id, "--json"]);
    expect(removed.json()).toEqual({ projectId: project.id, deleted: true, cancelledDeploymentIds: [], stoppedDeploymentIds: [] });
    const gone = await ctrl(["projects", "get", project.id, "--json"]);
    expect(gone.code).toBe(1);
    expect(gone.json()).toEqual({ error: `Not Found (404): project ${project.id} not found` });
  });

  it("prints tables with a header for people, and says what went wrong", async () => {
    await ctrl(["projects", "create", "people"]);
    const ls = await ctrl(["projects", "ls"]);
    expect(ls.code).toBe(0);
    expect(ls.stdout.split("\n")[0]).toMatch(/^ID\s+SLUG\s+NAME\s+DEFAULT BRANCH\s+LIVE$/);
    expect(ls.stdout).toContain("people");
    const dup = await ctrl(["projects", "create", "people"]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe('error: Conflict (409): a project with slug "people" already exists in this workspace; choose another slug\n');
    const bad = await ctrl(["projects", "create", "Not_OK"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("body.slug: must be lowercase");
    const projectsOnly = (
      await createRootKey(stack.database.db, {
        workspaceId: stack.seed.workspaceId,
        name: "projects only",
        permissions: ["project.*.*"],
        now: Date.now(),
      })
    ).key;
    const denied = await ctrl(["projects", "create", "nope"], projectsOnly);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("workspace.create_project");
    expect((await ctrl(["projects", "frob"])).code).toBe(2);
    expect((await ctrl(["projects", "get"])).code).toBe(2);
    expect((await ctrl(["projects", "update", "proj_x"])).code).toBe(2);
  });
});

describe("ctrl env", () => {
  it("create, ls, update and rm with --json; env policy still works", async () => {
    const projectId = (await ctrl(["projects", "create", "cli-envs", "--json"])).json().project.id as string;
    const created = await ctrl(["env", "create", "staging", "--regions", "local", "--replicas", "2", "--json"], admin, projectId);
    expect(created.code, created.stdout).toBe(0);
    expect(created.json()).toEqual({ environment: { ...environmentShape, slug: "staging", regions: ["local"], replicas: 2 } });
    const updated = await ctrl(
      ["env", "update", "staging", "--cpu", "500", "--memory", "512", "--health-path", "/ready", "--json"],
      admin,
      projectId,
    );
    expect(updated.json().environment).toMatchObject({
      slug: "staging",
      replicas: 2,
      cpuMillicores: 500,
      memoryMib: 512,
      healthCheckPath: "/ready",
    });
    const ls = await ctrl(["env", "ls", "--project", projectId, "--json"]);
    expect(ls.json().environments.map((e: { slug: string }) => e.slug)).toEqual(["preview", "production", "staging"]);
    for (const e of ls.json().environments) expect(e).toEqual(environmentShape);
    const human = await ctrl(["env", "ls"], admin, projectId);
    expect(human.stdout.split("\n")[0]).toMatch(/^ENVIRONMENT\s+REGIONS\s+REPLICAS\s+CPU\s+MEMORY\s+HEALTH PATH$/);
    expect(human.stdout).toMatch(/staging\s+local\s+2\s+500m\s+512Mi\s+\/ready/);
    expect((await ctrl(["env", "rm", "staging", "--json"], admin, projectId)).json()).toEqual({
      projectId,
      environment: "staging",
      deleted: true,
    });
    const missing = await ctrl(["env", "rm", "staging"], admin, projectId);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('environment "staging" not found in project');
    expect(missing.stderr).toContain("(it has: preview, production)");

    const policy = await ctrl(["env", "policy", "get", "--env", "preview", "--json"], admin, projectId);
    expect(policy.code, policy.stdout).toBe(0);
    expect(policy.json()).toMatchObject({ projectId, environment: "preview", isDefault: true });
    expect((await ctrl(["env", "update", "staging"], admin, projectId)).code).toBe(2);
    expect((await ctrl(["env", "create", "x", "--replicas", "two"], admin, projectId)).code).toBe(2);
    expect((await ctrl(["env", "frob"], admin, projectId)).code).toBe(2);
  });
});

describe("ctrl keys", () => {
  it("create shows the secret once, ls never does, revoke refuses the key at once", async () => {
    const created = await ctrl(["keys", "create", "--name", "ci", "--permission", "project.*.read_project", "--expires", "30d", "--json"]);
    expect(created.code, created.stdout).toBe(0);
    const { key, secret } = created.json();
    expect(key).toEqual({ ...keyShape, name: "ci", permissions: ["project.*.read_project"] });
    expect(key.expiresAt).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect(secret).toMatch(/^ctrl_/);
    expect((await ctrl(["projects", "ls", "--json"], secret)).code).toBe(0);

    const ls = await ctrl(["keys", "ls", "--json"]);
    expect(ls.stdout).not.toContain(secret);
    expect(ls.json().keys).toContainEqual(key);
    for (const k of ls.json().keys) expect(k).toEqual(keyShape);
    const human = await ctrl(["keys", "ls"]);
    expect(human.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+START\s+STATE\s+EXPIRES\s+PERMISSIONS$/);

    const revoked = await ctrl(["keys", "revoke", key.id, "--json"]);
    expect(revoked.json()).toEqual({ key: { ...key, revokedAt: expect.any(Number) } });
    expect(revoked.json().key.revokedAt).toBeGreaterThan(0);
    const refused = await ctrl(["projects", "ls"], secret);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe("error: Unauthorized (401): The root key is invalid, expired or revoked.\n");
    expect((await ctrl(["keys", "ls"])).stdout).toMatch(new RegExp(`${key.id}\\s+ci\\s+\\S+\\s+revoked`));

    expect((await ctrl(["keys", "create", "--name", "x"])).code).toBe(2);
    expect((await ctrl(["keys", "create", "--name", "x", "--permission", "p", "--expires", "soon"])).code).toBe(2);
    expect((await ctrl(["keys", "revoke"])).code).toBe(2);
    const bad = await ctrl(["keys", "create", "--name", "x", "--permission", "project.*"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("is not a permission");
  });
});

describe("ctrl deploy without --env", () => {
  it("deploys the project's default branch to production, other branches to preview, --prod to production", async () => {
    const { project, environments } = (await ctrl(["projects", "create", "cli-deploy", "--default-branch", "trunk", "--json"])).json();
    const envOf = Object.fromEntries(environments.map((e: { id: string; slug: string }) => [e.id, e.slug]));
    const deployTo = async (...flags: string[]) => {
      const run = await ctrl(["deploy", "--image", "ghcr.io/acme/app:1", "--no-wait", "--json", ...flags], admin, project.id);
      expect(run.code, run.stdout).toBe(0);
      const row = await stack.database.db
        .selectFrom("deployments")
        .select(["environment_id", "git_branch"])
        .where("id", "=", run.json().deploymentId)
        .executeTakeFirstOrThrow();
      return [envOf[row.environment_id], row.git_branch];
    };
    expect(await deployTo("--branch", "trunk")).toEqual(["production", "trunk"]);
    expect(await deployTo("--branch", "feature/x")).toEqual(["preview", "feature/x"]);
    expect(await deployTo("--branch", "feature/x", "--prod")).toEqual(["production", "feature/x"]);
    expect(await deployTo("--branch", "feature/x", "--env", "production")).toEqual(["production", "feature/x"]);
    const both = await ctrl(["deploy", "--image", "x", "--prod", "--env", "preview"], admin, project.id);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--prod deploys to production; it cannot be combined with --env preview");
  });
});
