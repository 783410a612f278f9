import type { CliConfig } from "../args.js";
import { callPublicApi } from "../client.js";
import type { Output } from "../output.js";
import type { KeyAction, KeyFlags } from "../resource-args.js";
import { table, timeOrNever, type RootKeyJson } from "../resource-format.js";

/**
 * `ctrl keys create|ls|revoke` through `/v2/keys.*`. `--json`: `{key, secret}` (create; the secret
 * is shown this once), `{keys}` (ls; never a secret), `{key}` (revoke).
 */
export async function keysCommand(config: CliConfig, action: KeyAction, flags: KeyFlags, out: Output): Promise<number> {
  switch (action) {
    case "create": {
      const res = await callPublicApi<{ key: RootKeyJson; secret: string }>(config, "keys.createRootKey", {
        name: flags.name,
        permissions: flags.permissions,
        ...(flags.expiresAt ? { expiresAt: flags.expiresAt } : {}),
      });
      out.result(
        res,
        `created root key ${res.key.id} (${res.key.name}), expires ${timeOrNever(res.key.expiresAt)}\n${res.secret}\n(store it now: it is not shown again)`,
      );
      return 0;
    }
    case "ls": {
      const res = await callPublicApi<{ keys: RootKeyJson[] }>(config, "keys.listRootKeys", {});
      const now = Date.now();
      const state = (k: RootKeyJson) => (k.revokedAt ? "revoked" : k.expiresAt && k.expiresAt <= now ? "expired" : "active");
      out.result(
        res,
        table(
          ["ID", "NAME", "START", "STATE", "EXPIRES", "PERMISSIONS"],
          res.keys.map((k) => [k.id, k.name, `${k.start}…`, state(k), timeOrNever(k.expiresAt), k.permissions.join(",")]),
        ),
      );
      return 0;
    }
    case "revoke": {
      const res = await callPublicApi<{ key: RootKeyJson }>(config, "keys.revokeRootKey", { keyId: flags.keyId });
      out.result(res, `revoked root key ${res.key.id} (${res.key.name}): it is refused from now on`);
      return 0;
    }
  }
}
