import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AcmeService, ClusterService, DeploymentService, DomainService } from "@ctrl/proto";
import { parseBearer, requireProjectAccess, serviceRefusal, type Principal } from "./auth.js";

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
  const rootKey = (permissions: string[], workspaceId = "ws_1"): Principal => ({
    kind: "root_key",
    keyId: "key_1",
    workspaceId,
    permissions,
  });
  const codeOf = (fn: () => void): Code | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      return ConnectError.from(err).code;
    }
  };

  it("lets the operator token act on any project, and never an agent or frontline credential", () => {
    expect(codeOf(() => requireProjectAccess({ kind: "operator" }, project, "generate_upload_url", "nf"))).toBeUndefined();
    expect(codeOf(() => requireProjectAccess({ kind: "frontline" }, project, "read_deployment", "nf"))).toBe(Code.PermissionDenied);
    const agent: Principal = {
      kind: "agent",
      credentialId: "agc_1",
      region: "local",
      advertiseHosts: ["127.0.0.1"],
      ports: { low: 20000, high: 29999 },
    };
    expect(codeOf(() => requireProjectAccess(agent, project, "read_deployment", "nf"))).toBe(Code.PermissionDenied);
  });

  it("grants a root key of the workspace with the permission", () => {
    expect(
      codeOf(() => requireProjectAccess(rootKey(["project.*.generate_upload_url"]), project, "generate_upload_url", "nf")),
    ).toBeUndefined();
    expect(codeOf(() => requireProjectAccess(rootKey(["project.proj_a.*"]), project, "generate_upload_url", "nf"))).toBeUndefined();
  });

  it("is PermissionDenied without the permission", () => {
    expect(codeOf(() => requireProjectAccess(rootKey(["project.*.read_deployment"]), project, "generate_upload_url", "nf"))).toBe(
      Code.PermissionDenied,
    );
    expect(codeOf(() => requireProjectAccess(rootKey(["project.proj_b.*"]), project, "generate_upload_url", "nf"))).toBe(
      Code.PermissionDenied,
    );
  });

  it("reports another workspace's project exactly like a missing one", () => {
    const messageOf = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        return { code: ConnectError.from(err).code, message: ConnectError.from(err).rawMessage };
      }
    };
    const foreign = messageOf(() =>
      requireProjectAccess(rootKey(["project.*.*"], "ws_2"), project, "generate_upload_url", "project proj_a not found"),
    );
    const missing = messageOf(() =>
      requireProjectAccess(rootKey(["project.*.*"], "ws_2"), undefined, "generate_upload_url", "project proj_a not found"),
    );
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

describe("serviceRefusal", () => {
  const agent: Principal = {
    kind: "agent",
    credentialId: "agc_1",
    region: "local",
    advertiseHosts: ["127.0.0.1"],
    ports: { low: 20000, high: 29999 },
  };
  const rootKey: Principal = { kind: "root_key", keyId: "key_1", workspaceId: "ws_1", permissions: ["project.*.*"] };
  const services = [ClusterService, AcmeService, DeploymentService, DomainService].map((s) => s.typeName);
  // [principal, the services it may call]: everything else is refused (permission_denied).
  const allowed: [string, Principal, string[]][] = [
    ["agent", agent, [ClusterService.typeName]],
    ["frontline", { kind: "frontline" }, [AcmeService.typeName]],
    ["operator", { kind: "operator" }, [AcmeService.typeName, DeploymentService.typeName, DomainService.typeName]],
    ["root_key", rootKey, [DeploymentService.typeName, DomainService.typeName]],
  ];
  it.each(allowed)("lets %s call exactly its services", (_, principal, mine) => {
    for (const service of services)
      expect(serviceRefusal(principal, service) === undefined, `${principal.kind} on ${service}`).toBe(mine.includes(service));
  });
});
