import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { createUploadUrl } from "../../uploads.js";
import { authenticateRootKey, authorizeProject, parseBody, sendData } from "./envelope.js";

const bodySchema = z.object({ projectId: z.string({ error: "required, a project id" }).trim().min(1, "must not be empty").max(64, "at most 64 characters") });

/** `POST /v2/deploy.generateUploadUrl` → 200 `{uploadUrl, context}` (permission generate_upload_url). */
export function registerGenerateUploadUrl(app: FastifyInstance, deps: ApiDeps): void {
  app.post("/v2/deploy.generateUploadUrl", async (req, reply) => {
    const key = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, bodySchema);
    const project = await authorizeProject(deps, key, body.projectId, "generate_upload_url");
    const { uploadUrl, context } = await createUploadUrl(deps, project.id);
    req.log.info({ projectId: project.id, context }, "upload url issued");
    return sendData(req, reply, 200, { uploadUrl, context });
  });
}
