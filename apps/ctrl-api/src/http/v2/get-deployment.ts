import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { authorizeDeployment, deploymentPermissions } from "../../deployment-model/access.js";
import { httpErrorFrom } from "../../deployment-model/errors.js";
import { loadRolloutView } from "../../deployment-model/rollout-view.js";
import { loadDeploymentView, publicDeployment } from "../../deployment-model/view.js";
import type { ApiDeps } from "../../deps.js";
import { authenticateRootKey, HttpApiError, parseBody, sendData } from "./envelope.js";

export const bodySchema = z.object({
  deploymentId: z.string({ error: "required, a deployment id" }).trim().min(1, "must not be empty").max(64, "at most 64 characters"),
});

/**
 * `POST /v2/deploy.getDeployment` → 200 `{id, status, hostnames?, errorMessage?, steps?, rollout?}`
 * (permission `read_deployment`). A missing deployment and one of another workspace are the same 404.
 */
export function registerGetDeployment(app: FastifyInstance, deps: ApiDeps): void {
  app.post("/v2/deploy.getDeployment", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, bodySchema);
    try {
      const owner = await authorizeDeployment(deps.db, principal, body.deploymentId, deploymentPermissions.read);
      const view = await loadDeploymentView(deps.db, owner.id);
      if (!view) throw new HttpApiError(404, "Not Found", `Deployment ${owner.id} does not exist.`);
      const rollout = await loadRolloutView(deps.db, owner.id, view.row.rollout_policy);
      return sendData(req, reply, 200, { ...publicDeployment(view), ...(rollout ? { rollout } : {}) });
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
}
