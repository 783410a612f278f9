import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { httpErrorFrom } from "../../deployment-model/errors.js";
import type { ApiDeps } from "../../deps.js";
import { listVariables } from "../../services/variable-service/list-variables.js";
import { setVariables } from "../../services/variable-service/set-variables.js";
import { unsetVariables } from "../../services/variable-service/unset-variables.js";
import { authenticateRootKey, parseBody, sendData } from "./envelope.js";

const text = (what: string, max: number) => z.string({ error: `required, ${what}` }).max(max, `at most ${max} characters`);
const environment = { projectId: text("a project id", 64), environmentSlug: text("an environment slug", 64) };

/** Request bodies of the variable endpoints (exported for the API description). */
export const setSchema = z.object({
  ...environment,
  variables: z.array(z.object({ key: text("a variable name", 255), value: z.string({ error: "required, a string" }) }), {
    error: "required, a list of {key, value}",
  }),
});
export const listSchema = z.object({ ...environment, reveal: z.boolean({ error: "true or false" }).optional() });
export const unsetSchema = z.object({
  ...environment,
  keys: z.array(text("a variable name", 255), { error: "required, a list of names" }),
});

/**
 * An environment's variables over public HTTP, sharing VariableService's handlers and rules:
 * `POST /v2/deploy.setVariables` `{projectId, environmentSlug, variables: [{key, value}]}` → 200
 * `{keys, liveDeploymentId}` (permission `write_variables`; the change takes effect on the next
 * deployment); `POST /v2/deploy.listVariables` `{projectId, environmentSlug, reveal?}` → 200
 * `{variables: [{key, updatedAt, value?}]}` (`read_variables`, or `reveal_variables` with reveal);
 * `POST /v2/deploy.unsetVariables` `{projectId, environmentSlug, keys}` → 200 `{removed, missing}`.
 * 400 for a bad name or value, 404 for a missing project/environment or another workspace's, 412
 * when ctrl-api has no VAULT_MASTER_KEYS.
 */
export function registerVariableEndpoints(app: FastifyInstance, deps: ApiDeps): void {
  app.post("/v2/deploy.setVariables", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, setSchema);
    try {
      return sendData(req, reply, 200, await setVariables(deps, principal, body));
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
  app.post("/v2/deploy.listVariables", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, listSchema);
    try {
      const res = await listVariables(deps, principal, { ...body, reveal: body.reveal === true });
      return sendData(req, reply, 200, {
        variables: (res.variables ?? []).map((v) => ({
          key: v.key,
          updatedAt: Number(v.updatedAt),
          ...(v.value !== undefined ? { value: v.value } : {}),
        })),
      });
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
  app.post("/v2/deploy.unsetVariables", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, unsetSchema);
    try {
      return sendData(req, reply, 200, await unsetVariables(deps, principal, body));
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
}
