import { buildContextKey } from "@ctrl/s3";
import type { ApiDeps } from "./deps.js";

/** Presigns a PUT for a new build context of `projectId` (shared by the RPC and the HTTP API). */
export async function createUploadUrl(deps: ApiDeps, projectId: string): Promise<{ uploadUrl: string; context: string }> {
  const context = buildContextKey(projectId);
  const uploadUrl = await deps.storage.presignPut(context);
  return { uploadUrl, context };
}
