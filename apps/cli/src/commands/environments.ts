import { UsageError, type CliConfig } from "../args.js";
import { callPublicApi } from "../client.js";
import type { Output } from "../output.js";
import type { EnvironmentAction, EnvironmentFlags } from "../resource-args.js";
import { environmentHeader, environmentRow, table, type EnvironmentJson } from "../resource-format.js";

/**
 * `ctrl env create|ls|update|rm` through `/v2/environments.*` (the project from --project or
 * CTRL_PROJECT_ID). `--json`: `{environment}` (create, update), `{environments}` (ls),
 * `{projectId, environment, deleted}` (rm).
 */
export async function environmentsCommand(
  config: CliConfig,
  action: EnvironmentAction,
  flags: EnvironmentFlags,
  out: Output,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const projectId = flags.project ?? env.CTRL_PROJECT_ID?.trim();
  if (!projectId) throw new UsageError("missing the project: pass --project <project id> or set CTRL_PROJECT_ID");
  switch (action) {
    case "create":
    case "update": {
      const res = await callPublicApi<{ environment: EnvironmentJson }>(
        config,
        action === "create" ? "environments.createEnvironment" : "environments.updateEnvironment",
        { projectId, ...(action === "create" ? { slug: flags.slug } : { environmentSlug: flags.slug }), ...flags.settings },
      );
      out.result(
        res,
        `${action === "create" ? "created" : "updated"} environment ${res.environment.slug} (${res.environment.id})\n${table(environmentHeader, [environmentRow(res.environment)])}\n(settings apply to the next deployment of ${res.environment.slug})`,
      );
      return 0;
    }
    case "ls": {
      const res = await callPublicApi<{ environments: EnvironmentJson[] }>(config, "environments.listEnvironments", { projectId });
      out.result(res, table(environmentHeader, res.environments.map(environmentRow)));
      return 0;
    }
    case "rm": {
      await callPublicApi<Record<string, never>>(config, "environments.deleteEnvironment", { projectId, environmentSlug: flags.slug });
      out.result({ projectId, environment: flags.slug, deleted: true }, `deleted environment ${flags.slug} of project ${projectId}`);
      return 0;
    }
  }
}
