import { describe, expect, it } from "vitest";
import { loadKraneConfig } from "./config.js";

describe("config", () => {
  // The secrets have no default; everything else does.
  const secrets = {
    KRANE_TOKEN: "ctrl_agent_0123456789abcdefghijklmnopqrstuv",
    S3_ACCESS_KEY_ID: "S3RVER",
    S3_SECRET_ACCESS_KEY: "S3RVER",
  };

  it("has working local defaults", () => {
    const c = loadKraneConfig(secrets);
    expect(c).toMatchObject({
      KRANE_REGION: "local",
      KRANE_DRIVER: "process",
      KRANE_PORT_RANGE: { low: 20000, high: 29999 },
      KRANE_SENTINEL_ENV: {},
    });
  });

  it.each([
    [{ KRANE_PORT_RANGE: "3000" }, /KRANE_PORT_RANGE/],
    [{ KRANE_PORT_RANGE: "4000-3000" }, /KRANE_PORT_RANGE/],
    [{ KRANE_DRIVER: "docker" }, /KRANE_DRIVER/],
    [{ KRANE_TOKEN: "short" }, /KRANE_TOKEN/],
    [{ KRANE_REGION: "a b" }, /KRANE_REGION/],
    [{ KRANE_SENTINEL_ENV: "[1]" }, /KRANE_SENTINEL_ENV/],
    [{ KRANE_CONTROL_PLANE_URL: "nope" }, /KRANE_CONTROL_PLANE_URL/],
  ])("names the bad variable %j", (env, message) => {
    expect(() => loadKraneConfig({ ...secrets, ...env })).toThrow(message);
  });

  it.each(["KRANE_TOKEN", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"])("refuses to start without %s", (name) => {
    const env: Record<string, string> = { ...secrets };
    delete env[name];
    expect(() => loadKraneConfig(env)).toThrow(new RegExp(`${name}: ${name} is required`));
  });
});
