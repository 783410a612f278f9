import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../../deps.js";
import { HttpApiError, sendError } from "./envelope.js";
import { registerGenerateUploadUrl } from "./generate-upload-url.js";
import { registerCreateDeployment } from "./create-deployment.js";
import { registerGetDeployment } from "./get-deployment.js";
import { registerCustomDomainEndpoints } from "./add-custom-domain.js";
import { registerRolloutControl } from "./rollout-control.js";
import { registerProjectEndpoints } from "./projects.js";
import { registerEnvironmentEndpoints } from "./environments.js";
import { registerRootKeyEndpoints } from "./root-keys.js";

/**
 * The public HTTP API under `/v2`: JSON bodies parsed by us (so malformed JSON gets the envelope),
 * the `{meta, data|error}` envelope, and one file per endpoint.
 */
export async function registerPublicApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string", bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((err, req, reply) => {
      if (err instanceof HttpApiError) return sendError(req, reply, err);
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 413)
        return sendError(
          req,
          reply,
          new HttpApiError(413, "Payload Too Large", "The request body exceeds 1 MiB.", [{ location: "body", message: "too large" }]),
        );
      if (status && status >= 400 && status < 500)
        return sendError(req, reply, new HttpApiError(400, "Bad Request", (err as Error).message));
      req.log.error({ err }, "public api request failed");
      return sendError(
        req,
        reply,
        new HttpApiError(500, "Internal Server Error", `Something went wrong; quote request id ${req.id} when reporting it.`),
      );
    });
    registerGenerateUploadUrl(scope, deps);
    registerCreateDeployment(scope, deps);
    registerGetDeployment(scope, deps);
    registerCustomDomainEndpoints(scope, deps);
    registerRolloutControl(scope, deps);
    registerProjectEndpoints(scope, deps);
    registerEnvironmentEndpoints(scope, deps);
    registerRootKeyEndpoints(scope, deps);
  });
}
