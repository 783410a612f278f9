import { UsageError, type CliConfig } from "../args.js";
import { deploymentClient } from "../client.js";
import { deploymentJson, statusName } from "../format.js";
import type { Output } from "../output.js";

/** `ctrl list --project ID [--env SLUG] [--limit N]`: newest first, one line each. */
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
  const rows = deployments.map((d) =>
    [
      d.id,
      statusName(d.status).padEnd(9),
      (d.gitBranch || "-").padEnd(16),
      (d.gitCommitSha.slice(0, 7) || "-").padEnd(7),
      new Date(Number(d.createdAt)).toISOString(),
      d.hostnames[0] ?? "",
    ].join("  "),
  );
  out.result(
    deployments.map(deploymentJson),
    rows.length ? rows.join("\n") : `no deployments in project ${projectId}${flags.env ? ` (${flags.env})` : ""}`,
  );
  return 0;
}
