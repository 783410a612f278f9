/**
 * `ctrl vars …`, `ctrl domains …` and `ctrl cancel` against a real ctrl-api (real HTTP, real MariaDB), in-process
 * through `runCli`.
 *
 * Guarantees: pairs and a `.env` file reach the API as variables (the command line wins over the
 * file); `ls` redacts unless `--reveal`; `set` says the change takes effect on the next deployment;
 * `--json` is one parseable document per command; refusals come back naming the problem (exit 1)
 * and usage mistakes exit 2. `domains add` prints the TXT record to create, `ls` the state of each
 * domain, `rm` removes it (gone from `ls`).
 */
import { Vault } from "@ctrl/vault";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutput, runCli } from "@ctrl/cli";
import { startTestStack, type TestStack } from "../src/index.js";

let stack: TestStack;
let dir: string;
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  stack.deps.vault = Vault.fromSpec(`k1:${randomBytes(32).toString("base64")}`);
  dir = await mkdtemp(join(tmpdir(), "cli-vars-"));
}, 90_000);
afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `ctrl args…` in-process against the stack; stdout/stderr collected. */
async function ctrl(args: string[]) {
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
    { CTRL_API_URL: stack.apiUrl, CTRL_ROOT_KEY: stack.seed.rootKey, CTRL_PROJECT_ID: stack.seed.projectId },
    out,
  );
  return { code, stdout: () => stdout, stderr: () => stderr, json: () => JSON.parse(stdout) };
}

describe("ctrl vars", () => {
  it("set from pairs and a .env file, ls redacted and revealed, unset", async () => {
    const file = join(dir, "app.env");
    await writeFile(file, '# app\nFROM_FILE=one\nBOTH="file value"\n');
    const set = await ctrl(["vars", "set", "BOTH=cli value", "URL=https://a.example/?x=1", "--file", file]);
    expect(set.code, set.stderr()).toBe(0);
    expect(set.stdout()).toBe("set BOTH, FROM_FILE, URL in production\ntakes effect on the next deployment\n");

    const ls = await ctrl(["vars", "ls", "--json"]);
    expect(ls.json()).toEqual({
      projectId: stack.seed.projectId,
      environment: "production",
      variables: [
        { key: "BOTH", updatedAt: expect.any(Number) },
        { key: "FROM_FILE", updatedAt: expect.any(Number) },
        { key: "URL", updatedAt: expect.any(Number) },
      ],
    });
    const text = await ctrl(["vars", "ls"]);
    expect(text.stdout()).toContain("BOTH       ********");
    expect(text.stdout()).not.toContain("cli value");
    const revealed = await ctrl(["vars", "ls", "--reveal", "--json"]);
    expect(revealed.json().variables.map((v: { key: string; value: string }) => [v.key, v.value])).toEqual([
      ["BOTH", "cli value"],
      ["FROM_FILE", "one"],
      ["URL", "https://a.example/?x=1"],
    ]);

    const unset = await ctrl(["vars", "unset", "FROM_FILE", "NEVER", "--json"]);
    expect(unset.json()).toEqual({
      projectId: stack.seed.projectId,
      environment: "production",
      removed: ["FROM_FILE"],
      missing: ["NEVER"],
    });
    const setJson = await ctrl(["vars", "set", "A=1", "--env", "preview", "--json"]);
    expect(setJson.json()).toEqual({
      projectId: stack.seed.projectId,
      environment: "preview",
      keys: ["A"],
      liveDeploymentId: null,
      takesEffect: "next_deployment",
    });
  });

  it("refusals exit 1 with the API's reason; usage mistakes exit 2", async () => {
    const bad = await ctrl(["vars", "set", "1BAD=x"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr()).toContain('invalid_argument: variables[0] "1BAD" is not a valid variable name');
    const env = await ctrl(["vars", "ls", "--env", "nope"]);
    expect(env.code).toBe(1);
    expect(env.stderr()).toContain(`not_found: environment "nope" not found in project ${stack.seed.projectId}`);
    const redeploy = await ctrl(["vars", "set", "B=2", "--redeploy"]);
    expect(redeploy.code).toBe(1);
    expect(redeploy.stderr()).toContain("has no deployment to redeploy yet");
    expect((await ctrl(["vars", "set", "NOPE"])).code).toBe(2);
    const missingFile = await ctrl(["vars", "set", "--file", join(dir, "missing.env")]);
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr()).toContain("ENOENT");
  });

  it("ctrl cancel, stop, start and rm of a missing deployment are not_found (exit 1)", async () => {
    for (const command of ["cancel", "stop", "start", "rm"]) {
      const res = await ctrl([command, "d_missing", "--json"]);
      expect(res.code, command).toBe(1);
      expect(res.json()).toEqual({ error: "not_found: deployment d_missing not found" });
    }
  });
});

describe("ctrl domains", () => {
  it("add shows the TXT record, ls the state, rm removes it", async () => {
    const add = await ctrl(["domains", "add", "shop.example.org"]);
    expect(add.code, add.stderr()).toBe(0);
    expect(add.stdout()).toMatch(/^added shop\.example\.org to production \(pending_verification\)\n/);
    expect(add.stdout()).toMatch(/ {2}_ctrl-challenge\.shop\.example\.org {2}TXT {2}\S+\n/);
    const addJson = await ctrl(["domains", "add", "blog.example.org", "--env", "preview", "--json"]);
    expect(addJson.json().domain).toMatchObject({
      domain: "blog.example.org",
      state: "pending_verification",
      challengeType: "http-01",
      verificationRecord: { name: "_ctrl-challenge.blog.example.org", type: "TXT" },
    });

    const ls = await ctrl(["domains", "ls"]);
    expect(ls.stdout()).toBe(
      [
        "DOMAIN            STATE                 ROUTED  CERTIFICATE",
        "blog.example.org  pending_verification  no      after verification",
        "shop.example.org  pending_verification  no      after verification",
        "",
      ].join("\n"),
    );
    const lsJson = await ctrl(["domains", "ls", "--env", "preview", "--json"]);
    expect(lsJson.json()).toMatchObject({ environment: "preview", domains: [{ domain: "blog.example.org", routed: false }] });

    const rm = await ctrl(["domains", "rm", "shop.example.org", "--json"]);
    expect(rm.json()).toEqual({ domain: "shop.example.org", routesRemoved: 0, certificatesRemoved: 0 });
    expect((await ctrl(["domains", "ls", "--json"])).json().domains.map((d: { domain: string }) => d.domain)).toEqual(["blog.example.org"]);
    const again = await ctrl(["domains", "rm", "shop.example.org"]);
    expect(again.code).toBe(1);
    expect(again.stderr()).toBe("error: not_found: custom domain shop.example.org not found\n");
  });
});
