import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { parseBearer, requireProjectAccess, type Principal } from "./auth.js";

describe("parseBearer", () => {
  it.each([undefined, null, ""])("says the header is missing for %j", (header) => {
    const parsed = parseBearer(header);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problem).toMatch(/^missing Authorization header/);
  });

  it.each([
    ["Bearer ctrl_abc", "ctrl_abc"],
    ["bearer ctrl_abc", "ctrl_abc"],
    ["BEARER ctrl_abc", "ctrl_abc"],
    ["Bearer   ctrl_abc", "ctrl_abc"],
    ["Bearer ctrl_abc  ", "ctrl_abc"],
    ["Bearer\tctrl_abc", "ctrl_abc"],
  ])("accepts %j", (header, token) => {
    expect(parseBearer(header)).toEqual({ ok: true, token });
  });

  it.each([
    "ctrl_abc",
    "Bearer",
    "Bearer ",
    "Bearer    ",
    "Bearerctrl_abc",
    "Basic dXNlcjpwYXNz",
    "Bearer a b",
    "Token ctrl_abc",
    " Bearer ctrl_abc",
  ])("calls %j malformed", (header) => {
    const parsed = parseBearer(header);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problem).toMatch(/^malformed Authorization header: expected 'Bearer <token>'/);
  });

  it("never echoes the token back in a problem", () => {
    const parsed = parseBearer("Basic super-secret-value");
    expect(!parsed.ok && parsed.problem).not.toContain("super-secret-value");
  });
});

describe("requireProjectAccess", () => {
  const project = { id: "proj_a", workspace_id: "ws_1" };
  const rootKey = (permissions: string[], workspaceId = "ws_1"): Principal => ({ kind: "root_key", keyId: "key_1", workspaceId, permissions });
  const codeOf = (fn: () => void): Code | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      return ConnectError.from(err).code;
    }
  };

  it("lets the internal token act on any project", () => {
    expect(codeOf(() => requireProjectAccess({ kind: "internal" }, project, "generate_upload_url", "nf"))).toBeUndefined();
  });

  it("grants a root key of the workspace with the permission", () => {
    expect(codeOf(() => requireProjectAccess(rootKey(["project.*.generate_upload_url"]), project, "generate_upload_url", "nf"))).toBeUndefined();
    expect(codeOf(() => requireProjectAccess(rootKey(["project.proj_a.*"]), project, "generate_upload_url", "nf"))).toBeUndefined();
  });

  it("is PermissionDenied without the permission", () => {
    expect(codeOf(() => requireProjectAccess(rootKey(["project.*.read_deployment"]), project, "generate_upload_url", "nf"))).toBe(Code.PermissionDenied);
    expect(codeOf(() => requireProjectAccess(rootKey(["project.proj_b.*"]), project, "generate_upload_url", "nf"))).toBe(Code.PermissionDenied);
  });

  it("reports another workspace's project exactly like a missing one", () => {
    const messageOf = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        return { code: ConnectError.from(err).code, message: ConnectError.from(err).rawMessage };
      }
    };
    const foreign = messageOf(() => requireProjectAccess(rootKey(["project.*.*"], "ws_2"), project, "generate_upload_url", "project proj_a not found"));
    const missing = messageOf(() => requireProjectAccess(rootKey(["project.*.*"], "ws_2"), undefined, "generate_upload_url", "project proj_a not found"));
    expect(foreign).toEqual({ code: Code.NotFound, message: "project proj_a not found" });
    expect(missing).toEqual(foreign);
  });

  it("checks the workspace before the permission, so a foreign project never yields PermissionDenied", () => {
    expect(codeOf(() => requireProjectAccess(rootKey([], "ws_2"), project, "generate_upload_url", "nf"))).toBe(Code.NotFound);
  });

  it("is Unauthenticated without a principal", () => {
    expect(codeOf(() => requireProjectAccess(undefined, project, "generate_upload_url", "nf"))).toBe(Code.Unauthenticated);
  });
});
