import { loadDeploymentContext, type Db, type DeploymentStatus } from "@ctrl/db";
import { DeployFailure } from "../../steps.js";
import type { DeployRun } from "./deploy-run.js";

/** The compact facts a deploy journals once (not the whole rows: commit messages can be 10 KB). */
export interface DeployMeta {
  deploymentId: string;
  status: DeploymentStatus;
  workspaceId: string;
  workspaceSlug: string;
  projectId: string;
  projectSlug: string;
  environmentId: string;
  environmentSlug: string;
  environmentRegions: string | null;
  sourceType: "image" | "build_context";
  image: string | null;
  buildContextPath: string | null;
  dockerfilePath: string;
  gitCommitSha: string;
  gitBranch: string;
  replicas: number;
}

/** Reads a deployment's metadata, or undefined when it (or its project/environment/workspace) is gone. */
export async function loadDeployMeta(db: Db, deploymentId: string): Promise<DeployMeta | undefined> {
  const c = await loadDeploymentContext(db, deploymentId);
  if (!c) return undefined;
  const d = c.deployment;
  return {
    deploymentId: d.id,
    status: d.status,
    workspaceId: d.workspace_id,
    workspaceSlug: c.workspace.slug,
    projectId: d.project_id,
    projectSlug: c.project.slug,
    environmentId: d.environment_id,
    environmentSlug: c.environment.slug,
    environmentRegions: c.environment.regions,
    sourceType: d.source_type,
    image: d.image,
    buildContextPath: d.build_context_path,
    dockerfilePath: d.dockerfile_path ?? "Dockerfile",
    gitCommitSha: d.git_commit_sha,
    gitBranch: d.git_branch,
    replicas: d.replicas,
  };
}

/** Step `metadata`: loads the deployment's facts once; a missing row is a terminal `invalid_deployment`. */
export function metadataStep(run: DeployRun): Promise<DeployMeta> {
  return run.steps.step("metadata", "loading deployment", async () => {
    const m = await run.ctx.run("load deployment", () => loadDeployMeta(run.db, run.deploymentId));
    if (!m)
      throw new DeployFailure(
        "invalid_deployment",
        `deployment ${run.deploymentId} or its project, environment or workspace does not exist`,
      );
    return {
      value: m,
      message: `${m.sourceType === "image" ? "image" : "build context"} deploy of ${m.projectSlug} to ${m.environmentSlug}`,
    };
  });
}
