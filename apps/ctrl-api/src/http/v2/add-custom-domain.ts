import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { httpErrorFrom } from "../../deployment-model/errors.js";
import type { ApiDeps } from "../../deps.js";
import {
  addCustomDomain,
  getCustomDomain,
  listCustomDomains,
  removeCustomDomain,
  retryCustomDomain,
} from "../../services/domain-service/custom-domains.js";
import { authenticateRootKey, parseBody, sendData } from "./envelope.js";

const text = (what: string, max: number) => z.string({ error: `required, ${what}` }).max(max, `at most ${max} characters`);

export const addSchema = z.object({
  projectId: text("a project id", 64),
  environmentSlug: text("an environment slug", 64),
  domain: text("a hostname", 260),
  challengeType: z.enum(["http-01", "dns-01"], { error: "http-01 or dns-01" }).optional(),
});
export const domainSchema = z.object({ domain: text("a hostname", 260) });
export const listSchema = z.object({ projectId: text("a project id", 64), environmentSlug: text("an environment slug", 64).optional() });

/**
 * `POST /v2/deploy.addCustomDomain` → 201 `{id, domain, projectId, environmentId, challengeType,
 * verificationStatus: "pending_verification", verificationRecord: {name, type: "TXT", value}, state,
 * challengeStatus}` (permission `add_custom_domain`); 400 for a bad hostname, a wildcard without
 * DNS-01 or a name under the platform domain; 404 for an unknown project or environment; 409 when
 * the domain is attached to this workspace already, or verified by another workspace (the name, or
 * a wildcard and the names directly under it).
 * `POST /v2/deploy.getCustomDomain` `{domain}` → 200 (permission `read_custom_domain`).
 * `POST /v2/deploy.retryCustomDomain` `{domain}` → 200 (permission `add_custom_domain`): looks for the
 * TXT record again, or restarts a failed certificate; 412 when there is nothing to retry.
 * `POST /v2/deploy.listCustomDomains` `{projectId, environmentSlug?}` → 200 `{domains: [view + routed]}`
 * (permission `read_custom_domain`).
 * `POST /v2/deploy.removeCustomDomain` `{domain}` → 200 `{domain, routesRemoved, certificatesRemoved}`
 * (permission `remove_custom_domain`): frontline stops routing it; its challenge and certificate go.
 */
export function registerCustomDomainEndpoints(app: FastifyInstance, deps: ApiDeps): void {
  app.post("/v2/deploy.addCustomDomain", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, addSchema);
    try {
      return sendData(req, reply, 201, await addCustomDomain(deps, principal, body));
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
  app.post("/v2/deploy.getCustomDomain", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, domainSchema);
    try {
      return sendData(req, reply, 200, await getCustomDomain(deps, principal, body.domain));
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
  app.post("/v2/deploy.retryCustomDomain", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, domainSchema);
    try {
      return sendData(req, reply, 200, await retryCustomDomain(deps, principal, body.domain));
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
  app.post("/v2/deploy.listCustomDomains", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, listSchema);
    try {
      return sendData(req, reply, 200, {
        domains: await listCustomDomains(deps, principal, { projectId: body.projectId, environmentSlug: body.environmentSlug ?? "" }),
      });
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
  app.post("/v2/deploy.removeCustomDomain", async (req, reply) => {
    const principal = await authenticateRootKey(deps, req);
    const body = parseBody(req.body, domainSchema);
    try {
      return sendData(req, reply, 200, await removeCustomDomain(deps, principal, body.domain));
    } catch (err) {
      throw httpErrorFrom(err);
    }
  });
}
