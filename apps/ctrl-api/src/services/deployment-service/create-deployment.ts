import type { MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { DeploymentStatus, type CreateDeploymentRequest, type CreateDeploymentResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import { createDeployment } from "../../deployment-model/create.js";
import type { SourceInput } from "../../deployment-model/validate.js";
import type { ApiDeps } from "../../deps.js";

/** DeploymentService.CreateDeployment: see `deployment-model/create.ts` (shared with the public API). */
export async function createDeploymentRpc(
  deps: ApiDeps,
  req: CreateDeploymentRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof CreateDeploymentResponseSchema>> {
  const sources: SourceInput[] = [];
  if (req.source.case === "dockerImage") sources.push({ kind: "image", image: req.source.value });
  if (req.source.case === "buildContext")
    sources.push({ kind: "build_context", path: req.source.value.buildContextPath, dockerfile: req.source.value.dockerfilePath });
  const git = req.gitCommit;
  const result = await createDeployment(deps, ctx.values.get(principalKey), {
    projectId: req.projectId,
    branch: req.branch,
    environmentSlug: req.environmentSlug,
    sources,
    gitCommit: git
      ? {
          commitSha: git.commitSha,
          commitMessage: git.commitMessage,
          authorHandle: git.authorHandle,
          authorAvatarUrl: git.authorAvatarUrl,
          timestamp: Number(git.timestamp),
        }
      : undefined,
    command: req.command,
  });
  return { deploymentId: result.deploymentId, status: DeploymentStatus.PENDING };
}
