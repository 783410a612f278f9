import { UsageError, type CliConfig } from "../args.js";
import { deploymentClient } from "../client.js";
import { deploymentJson } from "../format.js";
import { formatDeploymentList } from "../list-format.js";
import type { Output } from "../output.js";

/** `ctrl list --project ID [--env SLUG] [--limit N]`: newest first, a table with a header; `*` marks the live deployment. */
export async function listCommand(
  config: CliConfig,
  flags: { project?: string; env?: string; limit: number },
  out: Output,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const projectId = flags.project ?? env.CTRL_PROJECT_ID?.trim();
  if (!projectId) throw new UsageError("missing the project: pass --project <project id> or set CTRL_PROJECT_ID");
  const client = deploymentClient(config);
  const deployments = [];
  let pageToken = "";
  while (deployments.length < flags.limit) {
    const page = await client.listDeployments({
      projectId,
      environmentSlug: flags.env ?? "",
      pageSize: Math.min(100, flags.limit - deployments.length),
      pageToken,
    });
    deployments.push(...page.deployments);
    if (!page.nextPageToken || page.deployments.length === 0) break;
    pageToken = page.nextPageToken;
  }
  out.result(
    deployments.map((d) => ({ ...deploymentJson(d), environmentSlug: d.environmentSlug || undefined, live: d.live })),
    deployments.length ? formatDeploymentList(deployments) : `no deployments in project ${projectId}${flags.env ? ` (${flags.env})` : ""}`,
  );
  return 0;
}
