/**
 * frontline has no built-in secret: with ACME lookups on (CTRL_API_URL, the default) and no
 * CTRL_FRONTLINE_TOKEN the real process exits at once naming the variable; the retired shared
 * CTRL_API_TOKEN is refused; a bad upstream port range is named.
 */
import { startupRefusal } from "@ctrl/testing";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadFrontlineConfig } from "../src/config.js";

const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(appDir, "src", "main.ts");

describe("frontline start-up", () => {
  it("refuses to start without CTRL_FRONTLINE_TOKEN, naming it", async () => {
    const { code, output } = await startupRefusal(entry, { PORT: "0", LOG_LEVEL: "silent" }, { cwd: appDir });
    expect(code).not.toBe(0);
    expect(output).toContain("CTRL_FRONTLINE_TOKEN: CTRL_FRONTLINE_TOKEN is required while CTRL_API_URL is set");
  });

  it("refuses the retired CTRL_API_TOKEN, a short token, HTTPS without vault keys and a bad port range", () => {
    const token = "frontline-0123456789abcdefghijklmnopqrstuvwxyz";
    expect(() => loadFrontlineConfig({ CTRL_FRONTLINE_TOKEN: token, CTRL_API_TOKEN: token })).toThrow(/CTRL_API_TOKEN is no longer used/);
    expect(() => loadFrontlineConfig({ CTRL_FRONTLINE_TOKEN: "local-dev-token-change-me" })).toThrow(
      /CTRL_FRONTLINE_TOKEN must be at least 32 characters/,
    );
    expect(() => loadFrontlineConfig({ CTRL_FRONTLINE_TOKEN: token, HTTPS_PORT: "0" })).toThrow(
      /VAULT_MASTER_KEYS is required while HTTPS_PORT is enabled/,
    );
    expect(() => loadFrontlineConfig({ CTRL_FRONTLINE_TOKEN: token, FRONTLINE_UPSTREAM_PORT_RANGE: "9000" })).toThrow(
      /FRONTLINE_UPSTREAM_PORT_RANGE: must look like 20000-29999/,
    );
    // Lookups off: no token needed. The default upstream range is krane's default.
    expect(loadFrontlineConfig({ CTRL_API_URL: "" }).FRONTLINE_UPSTREAM_PORT_RANGE).toEqual({ low: 20000, high: 29999 });
  });
});
