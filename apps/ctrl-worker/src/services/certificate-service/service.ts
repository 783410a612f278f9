import * as restate from "@restatedev/restate-sdk";
import type { WorkerDeps } from "../../deps.js";
import { configureAcmeHttp } from "./acme.js";
import { certificateServiceName, type ProcessChallengeRequest, type RenewExpiringRequest } from "./api.js";
import { processChallenge } from "./process-challenge.js";
import { renewExpiring } from "./renew-expiring.js";

/**
 * CertificateService — virtual object, key = custom domain (`"global"` for the renewal job).
 * Exclusive per key, so one domain never runs two issuances at once; different domains run in
 * parallel. See api.ts for the contract, process-challenge.ts and renew-expiring.ts for the flows.
 */
export function createCertificateService(deps: WorkerDeps) {
  const certs = deps.certificates;
  if (certs) configureAcmeHttp(certs.caPem);
  return restate.object({
    name: certificateServiceName,
    handlers: {
      /** Issues or renews the certificate of the domain `ctx.key`. */
      processChallenge: async (ctx: restate.ObjectContext, input: ProcessChallengeRequest) =>
        processChallenge(deps, certs, ctx, input ?? {}),
      /** The daily renewal job (key `"global"`). */
      renewExpiring: async (ctx: restate.ObjectContext, input: RenewExpiringRequest) => renewExpiring(deps, certs, ctx, input ?? {}),
    },
  });
}
