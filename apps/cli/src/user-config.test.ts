import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "./args.js";
import { readStoredLogin, userConfigPath, writeStoredLogin } from "./user-config.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ctrl-config-"));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe("the stored login", () => {
  it("lives in $XDG_CONFIG_HOME/ctrl or ~/.config/ctrl, owner-only", async () => {
    expect(userConfigPath({ XDG_CONFIG_HOME: "/x" })).toBe("/x/ctrl/config.json");
    expect(userConfigPath({ HOME: "/home/a" })).toBe("/home/a/.config/ctrl/config.json");
    const env = { XDG_CONFIG_HOME: dir };
    expect(readStoredLogin(env)).toBeUndefined();
    const file = writeStoredLogin(env, { apiUrl: "http://api:7070", rootKey: "k1" });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "ctrl"))).mode & 0o777).toBe(0o700);
    expect(readStoredLogin(env)).toEqual({ apiUrl: "http://api:7070", rootKey: "k1" });
    await writeFile(file, "not json");
    expect(() => readStoredLogin(env)).toThrow(/is not a ctrl login/);
  });

  it("loses to flags and the environment", () => {
    const stored = { apiUrl: "http://stored:1", rootKey: "stored" };
    const none = { json: false, help: false };
    expect(resolveConfig(none, {}, stored)).toEqual({ apiUrl: "http://stored:1", rootKey: "stored" });
    expect(resolveConfig(none, { CTRL_ROOT_KEY: "env" }, stored)).toEqual({ apiUrl: "http://stored:1", rootKey: "env" });
    expect(resolveConfig({ ...none, apiUrl: "http://flag:2" }, { CTRL_API_URL: "http://env:3" }, stored).apiUrl).toBe("http://flag:2");
    expect(() => resolveConfig(none, {})).toThrow(/or run `ctrl login` once/);
  });
});
