import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { findDeploymentById, findEnvironmentRouteDeployment } from "@ctrl/db";
import type { RedeployResponseSchema } from "@ctrl/proto";
import type { Principal } from "../../auth.js";
import { authorizeDeployment } from "../../deployment-model/access.js";
import { createDeployment } from "../../deployment-model/create.js";
import type { ApiDeps } from "../../deps.js";
import { authorizeEnvironment } from "../environment-service/access.js";
import { lifecyclePermissions } from "./access.js";

/**
 * DeploymentLifecycleService.Redeploy: a new deployment of an existing one's image (the image it
 * was given, or the artifact its build produced), branch, commit and command, created like any
 * other (so it snapshots the environment's variables as they are now). Without `deploymentId` the
 * source is the deployment the environment's own domain routes to.
 */
export async function redeploy(
  deps: ApiDeps,
  principal: Principal | undefined,
  req: { projectId: string; environmentSlug: string; deploymentId: string },
): Promise<MessageInitShape<typeof RedeployResponseSchema>> {
  let sourceId = req.deploymentId.trim();
  if (sourceId) {
    await authorizeDeployment(deps.db, principal, sourceId, lifecyclePermissions.redeploy);
  } else {
    const environment = await authorizeEnvironment(deps.db, principal, req.projectId, req.environmentSlug, lifecyclePermissions.redeploy);
    const current = await findEnvironmentRouteDeployment(deps.db, { projectId: environment.project_id, environmentId: environment.id }, "");
    if (!current)
      throw new ConnectError(
        `environment "${req.environmentSlug.trim()}" of project ${environment.project_id} has no deployment to redeploy yet: deploy first`,
        Code.FailedPrecondition,
      );
    sourceId = current;
  }
  const source = (await findDeploymentById(deps.db, sourceId))!;
  if (!source.image)
    throw new ConnectError(
      `deployment ${sourceId} has no image to redeploy (its build never finished, status ${source.status}): deploy the source again`,
      Code.FailedPrecondition,
    );
  const environment = await deps.db
    .selectFrom("environments")
    .select("slug")
    .where("id", "=", source.environment_id)
    .executeTakeFirstOrThrow();
  const created = await createDeployment(deps, principal, {
    projectId: source.project_id,
    branch: source.git_branch,
    environmentSlug: environment.slug,
    sources: [{ kind: "image", image: source.image }],
    gitCommit: {
      commitSha: source.git_commit_sha,
      commitMessage: source.git_commit_message ?? "",
      authorHandle: source.git_commit_author_handle ?? "",
      authorAvatarUrl: source.git_commit_author_avatar_url ?? "",
      timestamp: source.git_commit_timestamp ?? 0,
    },
    command: source.command ? (JSON.parse(source.command) as string[]) : [],
  });
  deps.logger.info({ deploymentId: created.deploymentId, sourceDeploymentId: sourceId, projectId: source.project_id }, "redeployed");
  return { deploymentId: created.deploymentId, sourceDeploymentId: sourceId };
}
