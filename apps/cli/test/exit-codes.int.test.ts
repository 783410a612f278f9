/**
 * The CLI's contract with scripts, through the real binary (`bin/ctrl.mjs` as a child process):
 * usage errors exit 2 (not 1, which means a failed deployment or API error), and `--json` writes its
 * one JSON document to stdout and nothing to stderr, also when the command fails. The success path
 * of `--json` (a real deploy) is checked in packages/stack/test/cli.e2e.int.test.ts.
 */
import { freePort, startProcess } from "@ctrl/testing";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/** Repository root. */
const repo = resolve(import.meta.dirname, "../../..");

const ctrlBin = join(repo, "apps/cli/bin/ctrl.mjs");

async function ctrl(args: string[], env: Record<string, string> = {}) {
  const proc = startProcess("ctrl", process.execPath, [ctrlBin, ...args], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
  });
  let stdout = "";
  let stderr = "";
  proc.child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
  proc.child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const { code } = await proc.exited;
  return { code, stdout, stderr };
}

const usageErrors: [string, string[]][] = [
  ["an unknown command", ["frobnicate"]],
  ["an unknown flag", ["status", "d_abc", "--colour"]],
  ["a missing argument", ["status"]],
  ["deploy without a project", ["deploy", "examples/hello"]],
];

describe("ctrl exit codes and --json", () => {
  it.each(usageErrors)("exits 2 on %s, with the reason on stderr", async (_name, args) => {
    const run = await ctrl(args, { CTRL_ROOT_KEY: "ctrl_test", CTRL_API_URL: "http://127.0.0.1:9" });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/^error: /);
    expect(run.stdout).toBe("");
  });

  it.each(usageErrors)("exits 2 on %s with --json: the error as JSON on stdout, stderr empty", async (_name, args) => {
    const run = await ctrl([...args, "--json"], { CTRL_ROOT_KEY: "ctrl_test", CTRL_API_URL: "http://127.0.0.1:9" });
    expect(run.code, run.stdout).toBe(2);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual({ error: expect.any(String) });
  });

  it("exits 1 (not 2) when the API cannot be reached, and --json still keeps stderr empty", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const human = await ctrl(["status", "d_abc"], { CTRL_ROOT_KEY: "ctrl_test", CTRL_API_URL: closed });
    expect(human.code, human.stderr).toBe(1);
    expect(human.stderr).toMatch(/^error: /);
    const json = await ctrl(["status", "d_abc", "--json"], { CTRL_ROOT_KEY: "ctrl_test", CTRL_API_URL: closed });
    expect(json.code, json.stdout).toBe(1);
    expect(json.stderr).toBe("");
    expect(JSON.parse(json.stdout)).toEqual({ error: expect.any(String) });
  });
});
