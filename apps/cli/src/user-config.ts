import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** What `ctrl login` stores. */
export interface StoredLogin {
  apiUrl: string;
  rootKey: string;
}

/** `$XDG_CONFIG_HOME/ctrl/config.json`, else `~/.config/ctrl/config.json` (`CTRL_CONFIG` overrides both). */
export function userConfigPath(env: NodeJS.ProcessEnv): string {
  if (env.CTRL_CONFIG?.trim()) return env.CTRL_CONFIG.trim();
  const base = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), ".config");
  return join(base, "ctrl", "config.json");
}

/** The stored login, or undefined without one (a file that is not ours is named in the error). */
export function readStoredLogin(env: NodeJS.ProcessEnv): StoredLogin | undefined {
  const file = userConfigPath(env);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<StoredLogin>;
    if (typeof value.apiUrl === "string" && typeof value.rootKey === "string") return { apiUrl: value.apiUrl, rootKey: value.rootKey };
  } catch {
    // fall through
  }
  throw new Error(`${file} is not a ctrl login (expected {"apiUrl","rootKey"}); run \`ctrl login\` again or delete it`);
}

/** Writes the login readable by its owner only (directory 0700, file 0600), atomically. */
export function writeStoredLogin(env: NodeJS.ProcessEnv, login: StoredLogin): string {
  const file = userConfigPath(env);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600); // a umask cannot widen it, but an existing tmp file's mode would survive
  renameSync(tmp, file);
  return file;
}
