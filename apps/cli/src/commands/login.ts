import { Code, ConnectError } from "@connectrpc/connect";
import type { CliConfig } from "../args.js";
import { deploymentClient } from "../client.js";
import type { Output } from "../output.js";
import { writeStoredLogin } from "../user-config.js";

/**
 * `ctrl login [--api-url URL] [--root-key KEY]`: checks that ctrl-api at the URL accepts the key, then
 * stores both in the user's config directory (mode 0600), so later commands need neither flags nor
 * environment (flags and CTRL_API_URL/CTRL_ROOT_KEY still win over it).
 */
export async function loginCommand(config: CliConfig, out: Output, env: NodeJS.ProcessEnv): Promise<number> {
  // A lookup of a deployment that cannot exist: `not_found` proves the key was accepted, without
  // needing a project or any permission beyond being a live key.
  try {
    await deploymentClient(config).getDeployment({ deploymentId: "d_ctrl_login_check" });
  } catch (err) {
    const e = ConnectError.from(err);
    if (e.code === Code.Unauthenticated)
      throw new Error(`ctrl-api at ${config.apiUrl} does not accept this root key (${e.rawMessage}); nothing was stored`);
    if (e.code !== Code.NotFound && e.code !== Code.PermissionDenied)
      throw new Error(`cannot check the key at ${config.apiUrl}: ${e.rawMessage}; nothing was stored`);
  }
  const file = writeStoredLogin(env, { apiUrl: config.apiUrl, rootKey: config.rootKey });
  out.result({ apiUrl: config.apiUrl, configFile: file }, `logged in to ${config.apiUrl}; stored in ${file} (only you can read it)`);
  return 0;
}
