import type { CliConfig } from "../args.js";
import { callPublicApi } from "../client.js";
import type { Output } from "../output.js";
import type { ProjectAction, ProjectFlags } from "../resource-args.js";
import { environmentHeader, environmentRow, table, type EnvironmentJson, type ProjectJson } from "../resource-format.js";

interface ProjectWithEnvironments {
  project: ProjectJson;
  environments: EnvironmentJson[];
}

function describeProject(p: ProjectWithEnvironments): string {
  return [
    `${p.project.slug} (${p.project.id}): ${p.project.name}`,
    `  default branch ${p.project.defaultBranch} (deploys to production; other branches to preview unless --prod)`,
    `  live ${p.project.liveDeploymentId || "-"}${p.project.isRolledBack ? " (pinned by a rollback)" : ""}`,
    table(environmentHeader, p.environments.map(environmentRow))
      .split("\n")
      .map((l) => `  ${l}`)
      .join("\n"),
  ].join("\n");
}

/**
 * `ctrl projects create|ls|get|update|rm` through `/v2/projects.*`. `--json` prints the endpoint's
 * data as is: `{project, environments}` (create, get), `{projects, nextPageToken}` (ls), `{project}`
 * (update), `{projectId, deleted, cancelledDeploymentIds, stoppedDeploymentIds}` (rm).
 */
export async function projectsCommand(config: CliConfig, action: ProjectAction, flags: ProjectFlags, out: Output): Promise<number> {
  switch (action) {
    case "create": {
      const created = await callPublicApi<ProjectWithEnvironments>(config, "projects.createProject", {
        name: flags.name ?? flags.target,
        slug: flags.target,
        ...(flags.defaultBranch ? { defaultBranch: flags.defaultBranch } : {}),
      });
      out.result(created, `created project ${created.project.id}\n${describeProject(created)}`);
      return 0;
    }
    case "ls": {
      const projects: ProjectJson[] = [];
      let pageToken = "";
      do {
        const page = await callPublicApi<{ projects: ProjectJson[]; nextPageToken: string }>(config, "projects.listProjects", {
          pageSize: 100,
          ...(pageToken ? { pageToken } : {}),
        });
        projects.push(...page.projects);
        pageToken = page.nextPageToken;
      } while (pageToken);
      out.result(
        { projects, nextPageToken: "" },
        projects.length
          ? table(
              ["ID", "SLUG", "NAME", "DEFAULT BRANCH", "LIVE"],
              projects.map((p) => [p.id, p.slug, p.name, p.defaultBranch, p.liveDeploymentId || "-"]),
            )
          : "no projects yet: create one with `ctrl projects create <slug>`",
      );
      return 0;
    }
    case "get": {
      const found = await callPublicApi<ProjectWithEnvironments>(config, "projects.getProject", { projectId: flags.target });
      out.result(found, describeProject(found));
      return 0;
    }
    case "update": {
      const updated = await callPublicApi<{ project: ProjectJson }>(config, "projects.updateProject", {
        projectId: flags.target,
        ...(flags.name ? { name: flags.name } : {}),
        ...(flags.defaultBranch ? { defaultBranch: flags.defaultBranch } : {}),
      });
      out.result(updated, `updated ${updated.project.id}: name ${updated.project.name}, default branch ${updated.project.defaultBranch}`);
      return 0;
    }
    case "rm": {
      const deleted = await callPublicApi<{ cancelledDeploymentIds: string[]; stoppedDeploymentIds: string[] }>(
        config,
        "projects.deleteProject",
        { projectId: flags.target, force: flags.force },
      );
      const notes = [
        deleted.cancelledDeploymentIds.length ? `cancelled ${deleted.cancelledDeploymentIds.join(", ")}` : "",
        deleted.stoppedDeploymentIds.length ? `stopped ${deleted.stoppedDeploymentIds.join(", ")}` : "",
      ].filter(Boolean);
      out.result(
        { projectId: flags.target, deleted: true, ...deleted },
        `deleted project ${flags.target}${notes.length ? ` (${notes.join("; ")})` : ""}`,
      );
      return 0;
    }
  }
}
