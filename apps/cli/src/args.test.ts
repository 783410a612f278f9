import { describe, expect, it } from "vitest";
import { parseCliArgs, resolveConfig, usage, UsageError } from "./args.js";

describe("parseCliArgs", () => {
  it("parses deploy with defaults and flags", () => {
    expect(parseCliArgs(["deploy"])).toMatchObject({
      command: "deploy",
      dir: ".",
      flags: { env: "production", wait: true, timeoutSeconds: 900, json: false },
    });
    const p = parseCliArgs([
      "deploy",
      "examples/hello",
      "--project",
      "proj_1",
      "--env",
      "preview",
      "--branch",
      "feat/x",
      "--json",
      "--no-wait",
      "--timeout",
      "60",
      "--frontline-port",
      "8000",
    ]);
    expect(p).toEqual({
      command: "deploy",
      dir: "examples/hello",
      flags: {
        json: true,
        help: false,
        project: "proj_1",
        env: "preview",
        branch: "feat/x",
        wait: false,
        timeoutSeconds: 60,
        frontlinePort: 8000,
      },
    });
    expect(parseCliArgs(["deploy", "-p", "proj_1", "--image", "s3://b/k@sha256:" + "a".repeat(64)])).toMatchObject({
      flags: { project: "proj_1", image: expect.stringMatching(/^s3:/) },
    });
  });

  it("parses the other commands", () => {
    expect(parseCliArgs(["status", "d_1"])).toEqual({ command: "status", deploymentId: "d_1", flags: { json: false, help: false } });
    expect(parseCliArgs(["list", "--project", "p", "--limit", "5", "--json"])).toMatchObject({
      command: "list",
      flags: { project: "p", limit: 5, json: true },
    });
    expect(parseCliArgs(["logs", "d_1", "-f"])).toMatchObject({ command: "logs", deploymentId: "d_1", flags: { follow: true } });
    expect(parseCliArgs(["logs", "d_1", "--runtime", "--instance", "d_1-0", "--tail", "20"])).toMatchObject({
      command: "logs",
      flags: { follow: false, runtime: { instance: "d_1-0", tail: 20 } },
    });
    const since = parseCliArgs(["logs", "d_1", "--runtime", "-f", "--since", "10m"]);
    expect(since.command === "logs" && since.flags.runtime?.since).toBeGreaterThan(Date.now() - 600_000 - 60_000);
    expect(parseCliArgs(["rollback", "d_1", "--source", "d_2"])).toMatchObject({
      command: "rollback",
      targetId: "d_1",
      flags: { source: "d_2" },
    });
    expect(parseCliArgs(["promote", "d_1", "--api-url", "http://x", "--root-key", "k"])).toMatchObject({
      command: "promote",
      deploymentId: "d_1",
      flags: { apiUrl: "http://x", rootKey: "k" },
    });
  });

  it("answers help in every form", () => {
    expect(parseCliArgs([])).toMatchObject({ command: "help" });
    expect(parseCliArgs(["--help"])).toMatchObject({ command: "help" });
    expect(parseCliArgs(["help", "deploy"])).toMatchObject({ command: "help", topic: "deploy" });
    expect(parseCliArgs(["logs", "-h"])).toMatchObject({ command: "help", topic: "logs" });
    expect(usage("rollback")).toContain("ctrl rollback <target-deployment-id>");
  });

  it("rejects mistakes with a message naming them", () => {
    const cases: [string[], RegExp][] = [
      [["deploi"], /unknown command "deploi"/],
      [["status"], /status needs a deployment id/],
      [["status", "a", "b"], /status takes one deployment id, got 2/],
      [["deploy", "--bogus"], /Unknown option '--bogus'/],
      [["deploy", "--timeout", "soon"], /--timeout must be a positive whole number, got "soon"/],
      [["deploy", "--timeout", "0"], /--timeout must be a positive whole number/],
      [["deploy", "--project", ""], /--project must not be empty/],
      [["deploy", "--project"], /argument missing/],
      [["list", "extra"], /list takes no arguments/],
      [["logs", "d_1", "--follow=yes"], /--follow/],
      [["logs", "d_1", "--since", "10m"], /--since works only with --runtime/],
      [["logs", "d_1", "--runtime", "--since", "soon"], /--since "soon" is neither a duration/],
      [["logs", "d_1", "--runtime", "--tail", "0"], /--tail must be a positive whole number/],
      [["help", "nope"], /unknown command "nope"/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseCliArgs(argv), argv.join(" ")).toThrow(UsageError);
      expect(() => parseCliArgs(argv), argv.join(" ")).toThrow(message);
    }
  });
});

describe("resolveConfig", () => {
  it("takes flags over the environment and trims a trailing slash", () => {
    expect(
      resolveConfig({ json: false, help: false, apiUrl: "http://api:7070/" }, { CTRL_API_URL: "http://other", CTRL_ROOT_KEY: "k" }),
    ).toEqual({ apiUrl: "http://api:7070", rootKey: "k" });
    expect(resolveConfig({ json: false, help: false }, { CTRL_API_URL: "https://ctrl.example.com", CTRL_ROOT_KEY: " key " })).toEqual({
      apiUrl: "https://ctrl.example.com",
      rootKey: "key",
    });
  });

  it("names exactly what is missing", () => {
    const none = { json: false, help: false };
    expect(() => resolveConfig(none, {})).toThrow(
      /missing the API URL \(--api-url or CTRL_API_URL.*\) and a root key \(--root-key or CTRL_ROOT_KEY/,
    );
    expect(() => resolveConfig(none, { CTRL_API_URL: "http://x" })).toThrow(/^missing a root key/);
    expect(() => resolveConfig(none, { CTRL_ROOT_KEY: "k" })).toThrow(/^missing the API URL/);
    expect(() => resolveConfig(none, { CTRL_API_URL: "  ", CTRL_ROOT_KEY: "k" })).toThrow(/missing the API URL/);
    expect(() => resolveConfig(none, { CTRL_API_URL: "not a url", CTRL_ROOT_KEY: "k" })).toThrow(/is not a URL/);
    expect(() => resolveConfig(none, { CTRL_API_URL: "ftp://x", CTRL_ROOT_KEY: "k" })).toThrow(/must be http/);
  });
});
