/**
 * `ctrl logs <id> --runtime` end to end, through the CLI binary against the real system (ctrl-api,
 * worker, restate-server, MariaDB, s3rver, the krane agent with the process driver, frontline).
 *
 * Guarantees: what an instance prints on stdout and on stderr reaches ctrl-api (the agent pushes it)
 * and is read with the root key, never through the agent's internal endpoint; lines printed before
 * an instance exited stay readable after it exited and was restarted; `--instance`, `--since`,
 * `--tail` and `--json` (one object per line) select and shape the output; an unknown instance is
 * refused naming the valid ones; `--follow --json` streams new lines as the app prints them.
 */
import { startProcess, waitFor } from "@ctrl/testing";
import { mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repo, startSystem, type System } from "../src/system.js";

let sys: System;
beforeAll(async () => {
  sys = await startSystem();
}, 180_000);
afterAll(async () => sys?.close(), 60_000);

/** An app that says hello on stdout and stderr, prints on GET /say?text=…, and exits on GET /exit. */
const app = `import { createServer } from "node:http";
const id = process.env.CTRL_INSTANCE_ID;
console.log("out: started " + id);
console.error("err: warming up " + id);
createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/say") console.log("said " + url.searchParams.get("text"));
  if (url.pathname === "/exit") { console.error("err: exiting on request"); res.end("bye"); setTimeout(() => process.exit(3), 10); return; }
  res.end(JSON.stringify({ deploymentId: process.env.CTRL_DEPLOYMENT_ID }));
}).listen(Number(process.env.PORT));
`;

type Line = { seq: number; instance: string; region: string; line: string; observedAt: number };
const parseLines = (stdout: string): Line[] =>
  stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

describe("ctrl logs --runtime", () => {
  let deploymentId: string;
  let host: string;

  it("shows stdout and stderr of the instances through ctrl-api, kept across an exit", async () => {
    const dir = await mkdtemp(join(sys.scratch, "printer-"));
    await writeFile(join(dir, "ctrl.json"), JSON.stringify({ start: ["node", "server.mjs"], healthPath: "/" }));
    await writeFile(join(dir, "server.mjs"), app);
    const run = await sys.ctrl(["deploy", dir, "--project", sys.stack.seed.projectId, "--env", "preview", "--json"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    deploymentId = run.json().deploymentId as string;
    host = (run.json().hostnames as string[]).find((h) => h.includes("-preview-"))!;
    await sys.waitServes(host, deploymentId);
    const instance = `${deploymentId}-0`;

    const logs = await waitFor(
      "both start lines in the runtime log",
      async () => {
        const r = await sys.ctrl(["logs", deploymentId, "--runtime"]);
        return r.code === 0 && r.stdout.includes("out: started") && r.stdout.includes("err: warming up") ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(logs.stdout).toContain(`out: started ${instance}`);
    expect(logs.stdout).toContain(`err: warming up ${instance}`);

    // The instance exits; the agent restarts it. What it printed before stays, the new run's lines follow.
    expect((await sys.throughFrontline(host, "/exit")).body).toBe("bye");
    const after = await waitFor(
      "the restarted instance's lines",
      async () => {
        const r = await sys.ctrl(["logs", deploymentId, "--runtime", "--json"]);
        const lines = parseLines(r.stdout).map((l) => l.line);
        return lines.filter((l) => l.startsWith("out: started")).length === 2 ? lines : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(after).toEqual([
      `out: started ${instance}`,
      `err: warming up ${instance}`,
      "err: exiting on request",
      `out: started ${instance}`,
      `err: warming up ${instance}`,
    ]);
  }, 120_000);

  it("selects by instance, time and count, and refuses an unknown instance naming the valid ones", async () => {
    const json = await sys.ctrl(["logs", deploymentId, "--runtime", "--json", "--instance", `${deploymentId}-0`, "--tail", "2"]);
    expect(json.code, json.stderr).toBe(0);
    const lines = parseLines(json.stdout);
    expect(lines.map((l) => l.line)).toEqual([`out: started ${deploymentId}-0`, `err: warming up ${deploymentId}-0`]);
    expect(lines[0]).toMatchObject({ instance: `${deploymentId}-0`, region: "local" });
    expect(lines[1]!.seq).toBeGreaterThan(lines[0]!.seq);

    const future = await sys.ctrl(["logs", deploymentId, "--runtime", "--since", new Date(Date.now() + 3_600_000).toISOString()]);
    expect(future.code).toBe(0);
    expect(future.stdout).toBe("");
    expect(future.stderr).toMatch(/no output in that time/);

    const unknown = await sys.ctrl(["logs", deploymentId, "--runtime", "--instance", "d_nope-0"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`its instances are ${deploymentId}-0`);
  }, 60_000);

  it("--follow --json streams new lines as they are printed", async () => {
    const follower = startProcess(
      "ctrl",
      process.execPath,
      [join(repo, "apps/cli/bin/ctrl.mjs"), "logs", deploymentId, "--runtime", "-f", "--json"],
      {
        cwd: repo,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: process.env.HOME ?? "/root",
          CTRL_API_URL: sys.stack.apiUrl,
          CTRL_ROOT_KEY: sys.stack.seed.rootKey,
        },
      },
    );
    let stdout = "";
    follower.child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
    try {
      await waitFor("the follower's first page", async () => stdout.includes("out: started"), { timeoutMs: 15_000, intervalMs: 50 });
      await sys.throughFrontline(host, "/say?text=live-line");
      await waitFor("the new line streamed", async () => stdout.includes("said live-line"), { timeoutMs: 15_000, intervalMs: 50 });
      expect(parseLines(stdout).at(-1)).toMatchObject({ line: "said live-line", instance: `${deploymentId}-0` });
    } finally {
      await follower.stop(2_000);
    }
  }, 60_000);
});
