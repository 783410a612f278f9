import type { ControlOperation } from "@ctrl/rollout";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { httpErrorFrom } from "../../deployment-model/errors.js";
import { controlRollout } from "../../deployment-model/rollout-control.js";
import type { ApiDeps } from "../../deps.js";
import { authenticateRootKey, parseBody, sendData } from "./envelope.js";

export const bodySchema = z.object({
  deploymentId: z.string({ error: "required, a deployment id" }).trim().min(1, "must not be empty").max(64, "at most 64 characters"),
});

const endpoints: [string, ControlOperation][] = [
  ["/v2/deploy.pauseRollout", "pause"],
  ["/v2/deploy.resumeRollout", "resume"],
  ["/v2/deploy.cancelRollout", "cancel"],
];

/**
 * `POST /v2/deploy.pauseRollout` / `deploy.resumeRollout` / `deploy.cancelRollout` `{deploymentId}`
 * → 200 `{rollout}` (the rollout as getDeployment shows it; permission `rollout_deployment`). 404 for a
 * missing deployment or one of another workspace; 412 when it has no rollout or the operation is not
 * allowed in its state (the detail says why); 409 when it kept changing concurrently (retry).
 */
export function registerRolloutControl(app: FastifyInstance, deps: ApiDeps): void {
  for (const [path, operation] of endpoints) {
    app.post(path, async (req, reply) => {
      const principal = await authenticateRootKey(deps, req);
      const body = parseBody(req.body, bodySchema);
      try {
        return sendData(req, reply, 200, { rollout: await controlRollout(deps, principal, body.deploymentId, operation) });
      } catch (err) {
        throw httpErrorFrom(err);
      }
    });
  }
}
