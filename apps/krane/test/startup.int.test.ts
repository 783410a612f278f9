/**
 * krane has no built-in secret: started without KRANE_TOKEN (or the S3 keys) the real process exits
 * at once with a message naming the variable and where the value comes from.
 */
import { startupRefusal } from "@ctrl/testing";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./helpers.js";

const entry = join(repoRoot, "apps", "krane", "src", "main.ts");
const complete = {
  KRANE_TOKEN: "ctrl_agent_0123456789abcdefghijklmnopqrstuv",
  S3_ACCESS_KEY_ID: "S3RVER",
  S3_SECRET_ACCESS_KEY: "S3RVER",
  KRANE_HTTP_PORT: "-1",
  LOG_LEVEL: "silent",
};

describe("krane start-up", () => {
  it.each(["KRANE_TOKEN", "S3_SECRET_ACCESS_KEY"])("refuses to start without %s, naming it", async (name) => {
    const env: Record<string, string> = { ...complete };
    delete env[name];
    const { code, output } = await startupRefusal(entry, env, { cwd: repoRoot });
    expect(code).not.toBe(0);
    expect(output).toContain(`${name}: ${name} is required`);
  });
});
