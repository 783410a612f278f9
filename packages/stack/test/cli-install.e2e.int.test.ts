/**
 * The CLI as people install and use it, against the real system: `npm i -g ./apps/cli` (into a
 * temporary prefix) gives a `ctrl` that works from any directory; `ctrl --version`; `ctrl login`
 * stores the API URL and key in the user's config directory with mode 0600 and later commands need
 * neither flags nor environment (flags still win); `ctrl deploy` with no directory packs the one it
 * runs in; Ctrl-C while it follows leaves the deployment running and says how to follow or cancel it;
 * deploy checks before work (environment, `.env`, size limit); `ctrl list` has a header, an environment column and marks the live deployment; shell completion
 * scripts for bash and zsh.
 */
import { startProcess, waitFor } from "@ctrl/testing";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repo, startSystem, type System } from "../src/system.js";

const exec = promisify(execFile);
let sys: System;
let prefix: string;
let home: string;
let ctrlBin: string;

beforeAll(async () => {
  sys = await startSystem();
  prefix = await mkdtemp(join(sys.scratch, "npm-global-"));
  home = await mkdtemp(join(sys.scratch, "home-"));
  await exec("npm", ["install", "--global", "--prefix", prefix, "--no-audit", "--no-fund", join(repo, "apps/cli")], { cwd: repo });
  ctrlBin = join(prefix, "bin", "ctrl");
}, 240_000);
afterAll(async () => sys?.close(), 60_000);

/** Runs the installed `ctrl` in `cwd` with only PATH, HOME and XDG_CONFIG_HOME (no CTRL_* unless given). */
function ctrl(args: string[], cwd: string, env: Record<string, string> = {}) {
  const proc = startProcess("ctrl", ctrlBin, args, {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), ...env },
  });
  let stdout = "";
  let stderr = "";
  proc.child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  proc.child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  return {
    proc,
    output: () => ({ stdout, stderr }),
    done: proc.exited.then(({ code }) => ({ code, stdout, stderr })),
  };
}

describe("the installed ctrl", () => {
  it("prints its version from any directory", async () => {
    const run = await ctrl(["--version"], sys.scratch).done;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ctrl \d+\.\d+\.\d+ \(node v\d+/);
  });

  it("logs in once (file mode 0600) and later commands need no flags or environment", async () => {
    const bad = await ctrl(["login", "--api-url", sys.stack.apiUrl, "--root-key", "ctrl_nope"], sys.scratch).done;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/does not accept this root key.*nothing was stored/);

    const login = await ctrl(["login", "--api-url", sys.stack.apiUrl, "--root-key", sys.stack.seed.rootKey], sys.scratch).done;
    expect(login.code, login.stderr).toBe(0);
    const file = join(home, ".config", "ctrl", "config.json");
    expect(login.stdout).toContain(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ apiUrl: sys.stack.apiUrl, rootKey: sys.stack.seed.rootKey });

    const list = await ctrl(["list", "--project", sys.stack.seed.projectId, "--json"], sys.scratch).done;
    expect(list.code, list.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(list.stdout))).toBe(true);
    // A flag still wins over the stored login.
    const flagged = await ctrl(["list", "--project", sys.stack.seed.projectId, "--root-key", "ctrl_nope"], sys.scratch).done;
    expect(flagged.code).toBe(1);
    expect(flagged.stderr).toMatch(/unauthenticated/);
  });

  it("deploys the directory it runs in; Ctrl-C while following leaves the deployment running", async () => {
    const dir = await mkdtemp(join(sys.scratch, "app-"));
    await cp(join(repo, "examples/hello"), dir, { recursive: true });
    const run = ctrl(["deploy", "--project", sys.stack.seed.projectId, "--env", "preview"], dir);
    const created = await waitFor("the deployment to be created", () => /deployment (d_\w+) created/.exec(run.output().stderr)?.[1], {
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    expect(run.output().stderr).toContain(`packed ${dir}`);
    process.kill(run.proc.child.pid!, "SIGINT");
    const ended = await run.done;
    expect(ended.code, ended.stderr).toBe(130);
    expect(ended.stderr).toContain(`stopped following; deployment ${created} keeps going.`);
    expect(ended.stderr).toContain(`ctrl status ${created}`);
    expect(ended.stderr).toContain(`ctrl cancel ${created}`);
    expect(ended.stderr).not.toMatch(/MaxListenersExceededWarning/);
    await waitFor(
      "the deployment to become ready anyway",
      async () => {
        const status = await ctrl(["status", created, "--json"], dir).done;
        return status.code === 0 && JSON.parse(status.stdout).status === "READY";
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }, 120_000);

  it("checks before work: the environment (naming the valid ones), .env left out with a warning, the size limit", async () => {
    const dir = await mkdtemp(join(sys.scratch, "checks-"));
    await cp(join(repo, "examples/hello"), dir, { recursive: true });
    await writeFile(join(dir, ".env"), "SECRET=do-not-ship\n");
    await writeFile(join(dir, "huge.bin"), randomBytes(200_000)); // incompressible

    const wrongEnv = await ctrl(["deploy", "--project", sys.stack.seed.projectId, "--env", "prod"], dir).done;
    expect(wrongEnv.code).toBe(1);
    expect(wrongEnv.stderr).toMatch(/environment "prod" not found in project \S+; its environments are: .*preview.*production/);
    expect(wrongEnv.stderr).toContain("nothing was packed or uploaded");
    expect(wrongEnv.stderr).not.toMatch(/^packed /m);

    const tooBig = await ctrl(["deploy", "--project", sys.stack.seed.projectId, "--env", "preview"], dir, {
      CTRL_MAX_CONTEXT_BYTES: "50000",
    }).done;
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toMatch(/the packed context is .*, over the .* limit; nothing was uploaded/);
    expect(tooBig.stderr).toMatch(/huge\.bin/);
    expect(tooBig.stderr).toContain(".ctrlignore");
    expect(tooBig.stderr).toContain("warning: left out .env");

    await writeFile(join(dir, ".ctrlignore"), "huge.bin\n");
    const ok = await ctrl(["deploy", "--project", sys.stack.seed.projectId, "--env", "preview", "--json"], dir).done;
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/^warning: left out \.env \(secrets belong in environment variables; --include-env packs them\)\n$/);
  }, 120_000);

  it("lists with a header and an environment column, and marks the live deployment", async () => {
    const deploy = await ctrl(["deploy", join(repo, "examples/hello"), "--project", sys.stack.seed.projectId, "--json"], sys.scratch).done;
    expect(deploy.code, deploy.stderr).toBe(0);
    const live = JSON.parse(deploy.stdout).deploymentId as string;
    const list = await ctrl(["list", "--project", sys.stack.seed.projectId], sys.scratch).done;
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.split("\n");
    expect(lines[0]).toMatch(/^\s+ID\s+ENV\s+STATUS\s+BRANCH\s+COMMIT\s+CREATED\s+URL$/);
    expect(lines[1]).toMatch(new RegExp(`^\\*  ${live}\\s+production\\s+READY `));
    expect(lines.filter((l) => l.startsWith("*  d_"))).toHaveLength(1);
    expect(list.stdout).toMatch(/ preview +(READY|DEPLOYING|BUILDING|PENDING) /);
    expect(list.stdout).toContain("* live: what the project's live domains serve");
    const json = await ctrl(["list", "--project", sys.stack.seed.projectId, "--json"], sys.scratch).done;
    const items = JSON.parse(json.stdout) as { id: string; environmentSlug: string; live: boolean }[];
    expect(items.find((d) => d.id === live)).toMatchObject({ environmentSlug: "production", live: true });
    expect(items.filter((d) => d.live)).toHaveLength(1);
  }, 120_000);

  it("prints completion scripts for bash (which bash loads and completes with) and zsh", async () => {
    const bash = await ctrl(["completion", "bash"], sys.scratch).done;
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain("complete -F _ctrl ctrl");
    // bash loads it and completes `ctrl lo` to the commands starting with lo.
    const { stdout } = await exec("bash", [
      "-c",
      `source /dev/stdin <<'EOF'\n${bash.stdout}\nEOF\nCOMP_WORDS=(ctrl lo); COMP_CWORD=1; _ctrl; echo "\${COMPREPLY[*]}"; COMP_WORDS=(ctrl logs --ru); COMP_CWORD=2; _ctrl; echo "\${COMPREPLY[*]}"`,
    ]);
    expect(stdout.split("\n").slice(0, 2)).toEqual(["logs login", "--runtime"]);
    const zsh = await ctrl(["completion", "zsh"], sys.scratch).done;
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef ctrl/);
    expect(zsh.stdout).toContain("deploy) compadd -- ");
    const usage = await ctrl(["completion", "fish"], sys.scratch).done;
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('completion supports bash and zsh, not "fish"');
  });
});
