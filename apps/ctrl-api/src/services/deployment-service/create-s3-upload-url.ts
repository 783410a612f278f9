import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { findProjectById } from "@ctrl/db";
import type { CreateS3UploadURLRequest, CreateS3UploadURLResponse } from "@ctrl/proto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CreateS3UploadURLResponseSchema } from "@ctrl/proto";
import { principalKey, requireProjectAccess } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { createUploadUrl } from "../../uploads.js";

/** DeploymentService.CreateS3UploadURL: a presigned PUT for a new build context of the project. */
export async function createS3UploadUrl(
  deps: ApiDeps,
  req: CreateS3UploadURLRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof CreateS3UploadURLResponseSchema>> {
  const projectId = req.unkeyProjectId.trim();
  if (!projectId) throw new ConnectError("unkey_project_id is required", Code.InvalidArgument);
  const project = await findProjectById(deps.db, projectId);
  requireProjectAccess(ctx.values.get(principalKey), project, "generate_upload_url", `project ${projectId} not found`);
  const { uploadUrl, context } = await createUploadUrl(deps, projectId);
  return { uploadUrl, buildContextPath: context } satisfies Partial<CreateS3UploadURLResponse>;
}
