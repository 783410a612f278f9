import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { httpErrorFrom } from "../../deployment-model/errors.js";
import type { ApiDeps } from "../../deps.js";
import { cancelDeployment } from "../../services/lifecycle-service/cancel-deployment.js";
import { deleteDeployment } from "../../services/lifecycle-service/delete-deployment.js";
import { redeploy } from "../../services/lifecycle-service/redeploy.js";
import { setDeploymentState } from "../../services/lifecycle-service/set-deployment-state.js";
import { authenticateRootKey, parseBody, sendData } from "./envelope.js";

const text = (what: string, max: number) => z.string({ error: `required, ${what}` }).max(max, `at most ${max} characters`);
/** Request bodies of the lifecycle endpoints (exported for the API description). */
export const deploymentSchema = z.object({ deploymentId: text("a deployment id", 64) });
export const cancelSchema = deploymentSchema.extend({ reason: z.string().max(500, "at most 500 characters").optional() });
export const redeploySchema = z.object({
  projectId: text("a project id", 64).optional(),
  environmentSlug: text("an environment slug", 64).optional(),
  deploymentId: text("a deployment id", 64).optional(),
});

/**
 * The deployment lifecycle over public HTTP, sharing DeploymentLifecycleService's handlers:
 * `POST /v2/deploy.cancelDeployment` `{deploymentId, reason?}` → 200 `{deploymentId, status}`
 * (`cancel_deployment`; 412 when it already finished); `deploy.stopDeployment` /
 * `deploy.startDeployment` `{deploymentId}` → 200 `{deploymentId, desiredState, regions,
 * changedRegions}` (`stop_deployment`; 412 when not ready or, for stop, still serving);
 * `deploy.redeploy` `{projectId, environmentSlug} | {deploymentId}` → 201 `{deploymentId,
 * sourceDeploymentId}` (`create_deployment`); `deploy.deleteDeployment` `{deploymentId}` → 200
 * `{deploymentId, removedHostnames, stoppedRegions}` (`delete_deployment`; 412 while its deploy runs
 * or while it serves). 404 for a missing deployment or another workspace's.
 */
export function registerLifecycleEndpoints(app: FastifyInstance, deps: ApiDeps): void {
  app.post("/v2/deploy.cancelDeployment", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, cancelSchema);
    try {
      return sendData(req, reply, 200, await cancelDeployment(deps, principal, body));
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
  for (const [path, state] of [
    ["/v2/deploy.stopDeployment", "standby"],
    ["/v2/deploy.startDeployment", "running"],
  ] as const) {
    app.post(path, async (req, reply) => {
      const principal = await authenticateRootKey(deps, req);
      const body = parseBody(req.body, deploymentSchema);
      try {
        return sendData(req, reply, 200, await setDeploymentState(deps, principal, body, state));
      } catch (err) {
        throw httpErrorFrom(err);
      }
    });
  }
  app.post("/v2/deploy.deleteDeployment", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, deploymentSchema);
    try {
      return sendData(req, reply, 200, await deleteDeployment(deps, principal, body));
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
  app.post("/v2/deploy.redeploy", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, redeploySchema);
    try {
      return sendData(
        req,
        reply,
        201,
        await redeploy(deps, principal, {
          projectId: body.projectId ?? "",
          environmentSlug: body.environmentSlug ?? "",
          deploymentId: body.deploymentId ?? "",
        }),
      );
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
}
