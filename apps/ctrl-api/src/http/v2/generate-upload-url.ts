import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ApiDeps } from "../../deps.js";
import { createUploadUrl } from "../../uploads.js";
import { checkProjectAccess, loadProject, parseBody, requireBearerToken, rootKeyPrincipalOr401, sendData } from "./envelope.js";

export const bodySchema = z.object({
  projectId: z.string({ error: "required, a project id" }).trim().min(1, "must not be empty").max(64, "at most 64 characters"),
});

/** `POST /v2/deploy.generateUploadUrl` → 200 `{uploadUrl, context}` (permission generate_upload_url). */
export function registerGenerateUploadUrl(app: FastifyInstance, deps: ApiDeps): void {
  app.post("/v2/deploy.generateUploadUrl", async (req, reply) => {
    const token = requireBearerToken(req);
    // The key and the project are looked up concurrently (one MySQL round trip of latency, not two),
    // while errors keep their precedence: header 400, key 401, body 400, then project 404/403.
    const keyLookup = rootKeyPrincipalOr401(deps, token);
    let body: z.infer<typeof bodySchema> | undefined;
    let bodyProblem: unknown;
    try {
      body = parseBody(req.body, bodySchema);
    } catch (err) {
      bodyProblem = err;
    }
    const [key, loaded] = await Promise.allSettled([keyLookup, body ? loadProject(deps, body.projectId) : undefined]);
    if (key.status === "rejected") throw key.reason;
    if (!body) throw bodyProblem;
    if (loaded.status === "rejected") throw loaded.reason;
    const project = checkProjectAccess(key.value, loaded.value, body.projectId, "generate_upload_url");
    const { uploadUrl, context } = await createUploadUrl(deps, project.id);
    req.log.info({ projectId: project.id, context }, "upload url issued");
    return sendData(req, reply, 200, { uploadUrl, context });
  });
}
