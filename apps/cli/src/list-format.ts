import type { Deployment } from "@ctrl/proto";
import { statusName } from "./format.js";

const columns = ["", "ID", "ENV", "STATUS", "BRANCH", "COMMIT", "CREATED", "URL"] as const;

/**
 * `ctrl list`'s table: a header, one row per deployment (newest first), `*` before the project's live
 * deployment, the environment by slug, and a legend when something is live.
 */
export function formatDeploymentList(deployments: Deployment[]): string {
  const rows = deployments.map((d) => [
    d.live ? "*" : " ",
    d.id,
    d.environmentSlug || d.environmentId,
    statusName(d.status),
    d.gitBranch || "-",
    d.gitCommitSha.slice(0, 7) || "-",
    new Date(Number(d.createdAt)).toISOString().replace(/\.\d{3}Z$/, "Z"),
    d.hostnames[0] ?? "",
  ]);
  const table = [[...columns], ...rows];
  const widths = columns.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const lines = table.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
  if (deployments.some((d) => d.live)) lines.push("", "* live: what the project's live domains serve");
  return lines.join("\n");
}
