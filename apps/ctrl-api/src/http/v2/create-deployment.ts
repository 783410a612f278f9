import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { createDeployment } from "../../deployment-model/create.js";
import { httpErrorFrom } from "../../deployment-model/errors.js";
import type { SourceInput } from "../../deployment-model/validate.js";
import type { ApiDeps } from "../../deps.js";
import { authenticateRootKey, parseBody, sendData } from "./envelope.js";

const text = (what: string) => z.string({ error: `must be a string (${what})` });

export const bodySchema = z.object({
  projectId: text("a project id"),
  branch: text("a git branch").optional(),
  environmentSlug: text("e.g. production or preview"),
  gitCommit: z
    .object({
      commitSha: text("a commit sha").optional(),
      commitMessage: text("the commit message").optional(),
      authorHandle: text("the author's handle").optional(),
      authorAvatarUrl: text("the author's avatar URL").optional(),
      timestamp: z.number({ error: "must be Unix milliseconds (a number)" }).int("must be an integer of Unix milliseconds").optional(),
    })
    .optional(),
  build: z
    .object({ context: text("the context key from generateUploadUrl"), dockerfile: text("a path inside the context").optional() })
    .optional(),
  image: text("an image reference").optional(),
  command: z.array(text("an argument")).optional(),
});

/**
 * `POST /v2/deploy.createDeployment` → 201 `{deploymentId}` (permission `create_deployment`).
 * Same validation and rules as the RPC (`deployment-model/create.ts`); exactly one of `build` / `image`.
 */
export function registerCreateDeployment(app: FastifyInstance, deps: ApiDeps): void {
  app.post("/v2/deploy.createDeployment", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, bodySchema);
    const sources: SourceInput[] = [];
    if (body.build !== undefined) sources.push({ kind: "build_context", path: body.build.context, dockerfile: body.build.dockerfile });
    if (body.image !== undefined) sources.push({ kind: "image", image: body.image });
    const g = body.gitCommit;
    try {
      const { deploymentId } = await createDeployment(deps, principal, {
        projectId: body.projectId,
        branch: body.branch ?? "",
        environmentSlug: body.environmentSlug,
        sources,
        gitCommit: g
          ? {
              commitSha: g.commitSha ?? "",
              commitMessage: g.commitMessage ?? "",
              authorHandle: g.authorHandle ?? "",
              authorAvatarUrl: g.authorAvatarUrl ?? "",
              timestamp: g.timestamp ?? 0,
            }
          : undefined,
        command: body.command ?? [],
      });
      return sendData(req, reply, 201, { deploymentId });
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
}
