/** `ctrl vars` / `ctrl cancel` argument parsing and the `.env` reader: what a person types becomes exactly these requests. */
import { describe, expect, it } from "vitest";
import { parseCliArgs } from "./args.js";
import { parseDotEnv } from "./lifecycle-args.js";

describe("ctrl vars", () => {
  it("set takes KEY=VALUE pairs with values as typed (after the first =), ls and unset their flags", () => {
    const set = parseCliArgs(["vars", "set", "A=1", "URL=https://x/?a=b", "EMPTY=", "--env", "preview", "--redeploy", "-p", "proj_1"]);
    expect(set).toMatchObject({
      command: "vars",
      action: "set",
      flags: {
        env: "preview",
        project: "proj_1",
        redeploy: true,
        variables: [
          { key: "A", value: "1" },
          { key: "URL", value: "https://x/?a=b" },
          { key: "EMPTY", value: "" },
        ],
      },
    });
    expect(parseCliArgs(["vars", "ls", "--reveal", "--json"])).toMatchObject({
      action: "ls",
      flags: { reveal: true, json: true, env: "production" },
    });
    expect(parseCliArgs(["vars", "unset", "A", "B"])).toMatchObject({ action: "unset", flags: { keys: ["A", "B"] } });
    expect(parseCliArgs(["vars", "set", "--file", ".env"])).toMatchObject({ action: "set", flags: { file: ".env", variables: [] } });
  });

  it("mistakes are usage errors that say what to type", () => {
    expect(() => parseCliArgs(["vars"])).toThrow("expected `ctrl vars set|ls|unset`");
    expect(() => parseCliArgs(["vars", "set"])).toThrow("vars set needs KEY=VALUE pairs or --file .env");
    expect(() => parseCliArgs(["vars", "set", "NOEQUALS"])).toThrow('vars set takes KEY=VALUE, got "NOEQUALS"');
    expect(() => parseCliArgs(["vars", "set", "=x"])).toThrow('vars set takes KEY=VALUE, got "=x"');
    expect(() => parseCliArgs(["vars", "unset"])).toThrow("vars unset needs at least one KEY");
    expect(() => parseCliArgs(["vars", "set", "A=1", "--reveal"])).toThrow("--reveal is for vars ls");
    expect(() => parseCliArgs(["vars", "ls", "--redeploy"])).toThrow("--redeploy is for vars set");
  });
});

describe("ctrl stop / start", () => {
  it("take one deployment id", () => {
    expect(parseCliArgs(["stop", "d_1", "--json"])).toMatchObject({ command: "stop", deploymentId: "d_1", flags: { json: true } });
    expect(parseCliArgs(["start", "d_1"])).toMatchObject({ command: "start", deploymentId: "d_1" });
    expect(() => parseCliArgs(["stop"])).toThrow("stop takes one deployment id, got: none");
    expect(parseCliArgs(["rm", "d_1"])).toMatchObject({ command: "rm", deploymentId: "d_1" });
    expect(() => parseCliArgs(["rm", "d_1", "d_2"])).toThrow("rm takes one deployment id, got: d_1 d_2");
  });
});

describe("ctrl cancel", () => {
  it("takes one deployment id and an optional reason", () => {
    expect(parseCliArgs(["cancel", "d_1", "--reason", "oops"])).toMatchObject({
      command: "cancel",
      deploymentId: "d_1",
      flags: { reason: "oops" },
    });
    expect(() => parseCliArgs(["cancel"])).toThrow("cancel takes one deployment id, got: none");
    expect(() => parseCliArgs(["cancel", "d_1", "d_2"])).toThrow("cancel takes one deployment id, got: d_1 d_2");
  });
});

describe("parseDotEnv", () => {
  it("reads KEY=VALUE lines, export, comments, quotes and escapes", () => {
    const env = [
      "# a comment",
      "",
      "PLAIN=hello world  # trailing comment",
      "export EXPORTED=1",
      'DOUBLE="a \\"quoted\\" #not-a-comment\\nline"',
      "SINGLE='literal \\n $HOME'",
      'MULTI="first',
      'second"',
      "EMPTY=",
      "SPACED = x",
    ].join("\n");
    expect(parseDotEnv(env)).toEqual([
      { key: "PLAIN", value: "hello world" },
      { key: "EXPORTED", value: "1" },
      { key: "DOUBLE", value: 'a "quoted" #not-a-comment\nline' },
      { key: "SINGLE", value: "literal \\n $HOME" },
      { key: "MULTI", value: "first\nsecond" },
      { key: "EMPTY", value: "" },
      { key: "SPACED", value: "x" },
    ]);
  });

  it("a malformed line names the file and the line", () => {
    expect(() => parseDotEnv("A=1\nnot a variable\n", "app.env")).toThrow('app.env:2: expected KEY=VALUE, got "not a variable"');
    expect(() => parseDotEnv('A="never closed\n', "app.env")).toThrow("app.env:1: the double quote of A is never closed");
  });
});

describe("ctrl domains", () => {
  it("add takes one domain with --env and --dns-01; ls an optional --env; rm one domain", () => {
    expect(parseCliArgs(["domains", "add", "*.example.com", "--env", "preview", "--dns-01"])).toMatchObject({
      command: "domains",
      action: "add",
      domain: "*.example.com",
      flags: { env: "preview", dns01: true },
    });
    expect(parseCliArgs(["domains", "ls", "--json"])).toMatchObject({ action: "ls", flags: { json: true, dns01: false } });
    expect(parseCliArgs(["domains", "rm", "shop.example.com"])).toMatchObject({ action: "rm", domain: "shop.example.com" });
    expect(() => parseCliArgs(["domains"])).toThrow("expected `ctrl domains add|ls|rm`");
    expect(() => parseCliArgs(["domains", "add"])).toThrow("domains add takes one domain, got: none");
    expect(() => parseCliArgs(["domains", "rm", "a.com", "b.com"])).toThrow("domains rm takes one domain, got: a.com b.com");
    expect(() => parseCliArgs(["domains", "ls", "--dns-01"])).toThrow("--dns-01 is for domains add");
  });
});
