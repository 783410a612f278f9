/**
 * ctrl-api has no built-in secret: started without the operator token, frontline's token or the S3
 * secret key, the real process exits at once with a message naming the variable; the retired shared
 * CTRL_API_TOKEN is refused with a message saying what replaced it.
 */
import { startupRefusal } from "@ctrl/testing";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(appDir, "src", "main.ts");
const secret = (name: string) => `${name.toLowerCase()}-0123456789abcdefghijklmnopqrstuvwxyz`;
// Were the config accepted, the process would start and listen on a free port: startupRefusal then fails.
const complete = {
  CTRL_OPERATOR_TOKEN: secret("operator"),
  CTRL_FRONTLINE_TOKEN: secret("frontline"),
  S3_ACCESS_KEY_ID: "S3RVER",
  S3_SECRET_ACCESS_KEY: "S3RVER",
  PORT: "0",
  GRPC_PORT: "-1",
  LOG_LEVEL: "silent",
};

describe("ctrl-api start-up", () => {
  it.each(["CTRL_OPERATOR_TOKEN", "CTRL_FRONTLINE_TOKEN", "S3_SECRET_ACCESS_KEY"])(
    "refuses to start without %s, naming it",
    async (name) => {
      const env: Record<string, string> = { ...complete };
      delete env[name];
      const { code, output } = await startupRefusal(entry, env, { cwd: appDir });
      expect(code).not.toBe(0);
      expect(output).toContain(`${name}: ${name} is required`);
    },
  );

  it("refuses a short operator token and the retired CTRL_API_TOKEN", async () => {
    const short = await startupRefusal(entry, { ...complete, CTRL_OPERATOR_TOKEN: "local-dev-token-change-me" }, { cwd: appDir });
    expect(short.output).toContain("CTRL_OPERATOR_TOKEN must be at least 32 characters");
    const retired = await startupRefusal(entry, { ...complete, CTRL_API_TOKEN: secret("api") }, { cwd: appDir });
    expect(retired.code).not.toBe(0);
    expect(retired.output).toContain("CTRL_API_TOKEN is no longer used: set CTRL_OPERATOR_TOKEN");
  });
});
