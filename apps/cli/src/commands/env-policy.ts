import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { EnvironmentService } from "@ctrl/proto";
import { UsageError, type CliConfig } from "../args.js";
import type { Output } from "../output.js";
import type { EnvPolicyFlags } from "../rollout-args.js";
import { formatPolicy, plainJson } from "../rollout-format.js";

/** The Connect EnvironmentService client with the configured key as bearer. */
export function environmentClient(config: CliConfig): Client<typeof EnvironmentService> {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${config.rootKey}`);
    return next(req);
  };
  return createClient(EnvironmentService, createConnectTransport({ baseUrl: config.apiUrl, httpVersion: "1.1", interceptors: [auth] }));
}

/** `ctrl env policy get|set`: the environment's rollout policy, as one line (or JSON: `{project, env, isDefault, policy}`). */
export async function envPolicyCommand(
  config: CliConfig,
  action: "get" | "set",
  flags: EnvPolicyFlags,
  out: Output,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const projectId = flags.project ?? env.CTRL_PROJECT_ID?.trim();
  if (!projectId) throw new UsageError("missing the project: pass --project <project id> or set CTRL_PROJECT_ID");
  const client = environmentClient(config);
  const where = { projectId, environmentSlug: flags.env };
  if (action === "get") {
    const res = await client.getRolloutPolicy(where);
    out.result(
      { projectId, environment: flags.env, isDefault: res.isDefault, policy: plainJson(res.policy) },
      `${flags.env}: ${res.policy ? formatPolicy(res.policy) : "-"}${res.isDefault ? "  (the default)" : ""}`,
    );
    return 0;
  }
  const res = await client.setRolloutPolicy({ ...where, policy: flags.policy ?? {} });
  out.result(
    { projectId, environment: flags.env, isDefault: false, policy: plainJson(res.policy) },
    `${flags.env}: ${res.policy ? formatPolicy(res.policy) : "-"}\n(new deployments of ${flags.env} roll out this way; running ones keep their policy)`,
  );
  return 0;
}
