/**
 * `ctrl` end to end, through the CLI binary as a child process, against the real system
 * (src/system.ts): ctrl-api, the worker process with the local builder, restate-server, MariaDB,
 * s3rver, the krane agent and frontline. Nothing is simulated.
 *
 * Guarantees: `ctrl deploy examples/hello` builds, becomes ready and its domain answers through
 * frontline; a second deploy, `ctrl rollback` and `ctrl promote` each change what the domain serves;
 * an identical context reuses the artifact; a failing build exits non-zero naming the step and
 * showing the log tail; status/list/logs work with --json; a worker SIGKILLed during a build is
 * restarted and the same `ctrl deploy` still ends ready with one artifact.
 */
import { waitFor } from "@ctrl/testing";
import { cp, mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repo, startSystem, type System } from "../src/system.js";

let sys: System;
beforeAll(async () => {
  sys = await startSystem();
}, 180_000);
afterAll(async () => sys?.close(), 60_000);

const project = () => ["--project", sys.stack.seed.projectId];

describe("ctrl through the real system", () => {
  let first: string;
  let second: string;
  let envHost: string;

  it("deploys examples/hello: ready, and its domain answers through frontline", async () => {
    const startedAt = Date.now();
    const run = await sys.ctrl(["deploy", "examples/hello", ...project(), "--env", "production", "--json"]);
    const elapsedMs = Date.now() - startedAt;
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    // --json: the JSON document is the whole output; progress for people stays off stderr.
    expect(run.stderr).toBe("");
    const out = run.json();
    expect(out.status).toBe("READY");
    expect(out.image).toMatch(/^s3:\/\/ctrl-builds\/.+\/artifacts\/build_.+\.tar\.gz@sha256:[0-9a-f]{64}$/);
    // Every phase of a context deploy was timed, and together they fit inside the run we measured.
    const phases = ["packMs", "uploadMs", "createMs", "followMs"].map((k) => out.timings[k] as unknown);
    for (const ms of phases) expect(Number.isInteger(ms) && (ms as number) >= 0, JSON.stringify(out.timings)).toBe(true);
    expect((phases as number[]).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(elapsedMs);
    expect(out.timings.followMs).toBeGreaterThan(0); // a build and a start happened while it followed
    first = out.deploymentId;
    envHost = (out.hostnames as string[]).find((h) => h.includes("-production-"))!;
    expect(envHost).toBeDefined();
    for (const host of out.hostnames as string[]) await sys.waitServes(host, first);
  }, 120_000);

  it("shows human progress: steps, status changes, the URLs", async () => {
    const run = await sys.ctrl(["deploy", "examples/hello", ...project(), "--env", "preview", "--branch", "feature/progress"], {
      CTRL_FRONTLINE_PORT: String(sys.frontlinePort),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/packed .*examples\/hello/);
    expect(run.stderr).toMatch(/deployment d_\w+ created \(preview, branch feature\/progress/);
    expect(run.stderr).toMatch(/✓ build:fetch/);
    expect(run.stderr).toMatch(/- build:install\s+reused the artifact/); // same context as the first deploy
    expect(run.stderr).toMatch(/→ READY/);
    expect(run.stdout).toMatch(new RegExp(`^ready in .*\\n  http://\\S+\\.ctrl\\.localhost:${sys.frontlinePort}/`, "m"));
  }, 120_000);

  it("a second deploy moves the domain; rollback moves it back; promote moves it forward again", async () => {
    const run = await sys.ctrl(["deploy", "examples/hello", ...project(), "--env", "production", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    second = run.json().deploymentId;
    await sys.waitServes(envHost, second);

    const rollback = await sys.ctrl(["rollback", first, "--json"]);
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    expect(rollback.json()).toMatchObject({ rolledBackFrom: second, deploymentId: first });
    await sys.waitServes(envHost, first);

    const promote = await sys.ctrl(["promote", second, "--json"]);
    expect(promote.code, promote.stdout + promote.stderr).toBe(0);
    await sys.waitServes(envHost, second);

    const bad = await sys.ctrl(["rollback", "d_doesnotexist", "--source", second]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not_found/);
  }, 120_000);

  it("status, list and logs", async () => {
    const status = await sys.ctrl(["status", first, "--json"]);
    expect(status.code).toBe(0);
    expect(status.json()).toMatchObject({ id: first, status: "READY" });
    expect((status.json().steps as { step: string }[]).map((s) => s.step)).toEqual(
      expect.arrayContaining(["build:fetch", "build:upload", "readiness", "cutover"]),
    );
    const human = await sys.ctrl(["status", first]);
    expect(human.stdout).toMatch(/status\s+READY/);

    const list = await sys.ctrl(["list", ...project(), "--json"]);
    expect((list.json() as unknown as { id: string }[]).map((d) => d.id)).toEqual(expect.arrayContaining([first, second]));

    const logs = await sys.ctrl(["logs", first]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/build plan from ctrl.json/);
    // --follow on a finished deployment prints everything and stops by itself.
    const followed = await sys.ctrl(["logs", first, "--follow", "--json"]);
    expect(followed.code).toBe(0);
    expect(followed.json()).toMatchObject({ deploymentId: first, status: "READY" });
    expect((followed.json().lines as { line: string }[]).some((l) => l.line.startsWith("build plan from ctrl.json"))).toBe(true);
  }, 60_000);

  it("builds and serves examples/with-deps (an npm dependency and a build script)", async () => {
    const run = await sys.ctrl(["deploy", "examples/with-deps", ...project(), "--env", "preview", "--json"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const out = run.json();
    const host = (out.hostnames as string[]).find((h) => h.includes("-preview-"))!;
    const res = await waitFor(
      `${host} to serve with-deps`,
      async () => {
        const r = await sys.throughFrontline(host);
        return r.status === 200 && r.body.includes(out.deploymentId as string) ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    expect(res.body).toMatch(/^with-deps from d_\w+, built by npm run build, up \d+(ms|s|m)\n$/);
    const logs = await sys.ctrl(["logs", out.deploymentId as string]);
    expect(logs.stdout).toContain("$ npm ci");
  }, 180_000);

  it("deploys an existing artifact reference with --image, without a build", async () => {
    const { json } = await sys.ctrl(["status", first, "--json"]);
    const image = json().image as string;
    const run = await sys.ctrl(["deploy", "--image", image, ...project(), "--env", "preview", "--json"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const out = run.json();
    expect(out).toMatchObject({ status: "READY", image });
    expect(out.timings.packMs).toBeUndefined();
    expect((out.steps as { step: string }[]).some((s) => s.step.startsWith("build"))).toBe(false);
  }, 60_000);

  it("a failing build exits non-zero with the failing step and its log tail", async () => {
    const dir = await mkdtemp(join(sys.scratch, "broken-"));
    await writeFile(
      join(dir, "ctrl.json"),
      JSON.stringify({ start: "node server.js", build: "echo checking types; echo 'src/app.ts(3,1): error TS1005' >&2; exit 1" }),
    );
    await writeFile(join(dir, "server.js"), "");
    const run = await sys.ctrl(["deploy", dir, ...project(), "--env", "preview"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAILED at step build:compile/);
    expect(run.stdout).toMatch(/exited with code 1; last 2 log lines:\nchecking types\nsrc\/app\.ts\(3,1\): error TS1005/);
    expect(run.stderr).toMatch(/│ src\/app\.ts\(3,1\): error TS1005/); // the live log tail
  }, 60_000);

  it("a worker SIGKILLed during a build: the same ctrl deploy still ends ready, with one artifact", async () => {
    const dir = await mkdtemp(join(sys.scratch, "slow-"));
    await cp(join(repo, "examples/hello"), dir, { recursive: true });
    await writeFile(
      join(dir, "ctrl.json"),
      JSON.stringify({
        start: ["node", "server.js"],
        healthPath: "/health",
        build: "echo slow-build-started; sleep 4; echo slow-build-done",
      }),
    );
    const before = await sys.artifactKeys();
    const running = sys.ctrl(["deploy", dir, ...project(), "--env", "preview", "--json"]);
    const building = await waitFor(
      "the slow build to start",
      async () => {
        const rows = await sys.stack.database.db
          .selectFrom("build_logs")
          .select("deployment_id")
          .where("line", "=", "slow-build-started")
          .execute();
        return rows[0]?.deployment_id;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    // A second person follows the build log live across the crash.
    const follower = sys.ctrl(["logs", building, "--follow"]);
    await sys.restartWorkerAfterKill();
    const run = await running;
    const followed = await follower;
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout.match(/^slow-build-started$/gm)).toHaveLength(2);
    expect(followed.stdout.match(/^slow-build-done$/gm)).toHaveLength(1);
    expect(followed.stdout).toContain("an earlier attempt of this build was interrupted");
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const out = run.json();
    expect(out.status).toBe("READY");
    const after = await sys.artifactKeys();
    expect(after.filter((k) => !before.includes(k))).toEqual([
      `${sys.stack.seed.projectId}/artifacts/build_${(out.deploymentId as string).slice(2)}.tar.gz`,
    ]);
    const builds = await sys.stack.database.db.selectFrom("builds").select("id").where("deployment_id", "=", out.deploymentId).execute();
    expect(builds).toHaveLength(1);
  }, 180_000);
});
