import { create } from "@bufbuild/protobuf";
import { ApplyDeploymentSchema } from "@ctrl/proto";
import { Vault, vaultContext } from "@ctrl/vault";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deploymentWorkload } from "./convert.js";
import { decryptEnv, isReservedEnvName, validateEnv } from "./env.js";

const vault = Vault.fromSpec(`k1:${randomBytes(32).toString("base64")}`);
const sealed = (deploymentId: string, env: unknown, v = vault) =>
  new TextEncoder().encode(v.encrypt(JSON.stringify(env), vaultContext.deploymentEnv(deploymentId)));

describe("environment variable validation", () => {
  it("keeps valid names and drops reserved ones (PORT, CTRL_*), which the agent sets itself", () => {
    expect(validateEnv({ DATABASE_URL: "mysql://x", _private: "1", a1: "", PORT: "1", CTRL_REGION: "evil", CTRL_NEW: "x" })).toEqual({
      env: { DATABASE_URL: "mysql://x", _private: "1", a1: "" },
      dropped: ["PORT", "CTRL_REGION", "CTRL_NEW"],
    });
    expect(isReservedEnvName("PORT")).toBe(true);
    expect(isReservedEnvName("PORTS")).toBe(false);
    expect(isReservedEnvName("CTRL")).toBe(false);
    expect(isReservedEnvName("port")).toBe(false);
  });

  it.each([["1ABC"], ["A-B"], ["A B"], [""], ["A=B"], ["ÄPFEL"], ["X\n"]])("refuses the name %j", (name) => {
    const r = validateEnv({ OK: "1", [name]: "secret-value" });
    expect(r).toMatchObject({ error: expect.stringMatching(/^env_invalid: variable name/) });
    // Errors name the variable, never its value.
    expect(JSON.stringify(r)).not.toContain("secret-value");
  });

  it("refuses non-string values and non-objects", () => {
    expect(validateEnv({ A: 1 })).toMatchObject({ error: "env_invalid: variable A must have a string value" });
    expect(validateEnv(["A"])).toMatchObject({ error: expect.stringMatching(/^env_invalid/) });
    expect(validateEnv(null)).toMatchObject({ error: expect.stringMatching(/^env_invalid/) });
    expect(validateEnv("A=1")).toMatchObject({ error: expect.stringMatching(/^env_invalid/) });
  });
});

describe("decrypting a deployment's variables", () => {
  it("empty bytes mean no variables, with or without a key", () => {
    expect(decryptEnv(new Uint8Array(), "d_1")).toEqual({ env: {}, dropped: [] });
    expect(decryptEnv(new Uint8Array(), "d_1", vault)).toEqual({ env: {}, dropped: [] });
  });

  it("decrypts the map bound to its deployment", () => {
    expect(decryptEnv(sealed("d_1", { A: "1", B: "two words" }), "d_1", vault)).toEqual({ env: { A: "1", B: "two words" }, dropped: [] });
  });

  it("fails with env_decrypt_failed without a key, under another key, for another deployment, or on garbage", () => {
    const bytes = sealed("d_1", { A: "secret-value" });
    expect(decryptEnv(bytes, "d_1")).toMatchObject({ error: expect.stringMatching(/^env_decrypt_failed: .*KRANE_VAULT_MASTER_KEYS/) });
    expect(decryptEnv(bytes, "d_1", Vault.fromSpec(`k1:${randomBytes(32).toString("base64")}`))).toMatchObject({
      error: expect.stringMatching(/^env_decrypt_failed/),
    });
    expect(decryptEnv(bytes, "d_2", vault)).toMatchObject({ error: expect.stringMatching(/^env_decrypt_failed/) });
    expect(decryptEnv(new Uint8Array([1, 2, 3]), "d_1", vault)).toMatchObject({ error: expect.stringMatching(/^env_decrypt_failed/) });
    // A well-formed blob that is not JSON.
    expect(decryptEnv(new TextEncoder().encode(vault.encrypt("not json", vaultContext.deploymentEnv("d_1"))), "d_1", vault)).toMatchObject({
      error: expect.stringMatching(/^env_decrypt_failed/),
    });
    for (const bad of [decryptEnv(bytes, "d_2", vault), decryptEnv(bytes, "d_1")])
      expect(JSON.stringify(bad)).not.toContain("secret-value");
  });

  it("deploymentWorkload carries the variables, reports dropped reserved names, and fails on bad names", () => {
    let dropped: string[] = [];
    const apply = (env: unknown) =>
      create(ApplyDeploymentSchema, { k8sName: "d_1", deploymentId: "d_1", encryptedEnvironmentVariables: sealed("d_1", env) });
    const w = deploymentWorkload(apply({ A: "1", PORT: "80", CTRL_DEPLOYMENT_ID: "x" }), vault, (names) => (dropped = names));
    expect(w.env).toEqual({ A: "1" });
    expect(w.envError).toBeUndefined();
    expect(dropped).toEqual(["PORT", "CTRL_DEPLOYMENT_ID"]);
    const bad = deploymentWorkload(apply({ "A-B": "1" }), vault);
    expect(bad.env).toEqual({});
    expect(bad.envError).toMatch(/^env_invalid/);
  });
});
