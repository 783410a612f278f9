import * as restate from "@restatedev/restate-sdk";
import type { WorkerDeps } from "../../deps.js";
import {
  certificateRequestServiceName,
  type CertificateRequestResult,
  type IssueCertificateRequest,
  type StartRenewalRequest,
  type VerifyDomainRequest,
} from "./api.js";
import { issueCertificate } from "./issue.js";
import { startRenewal } from "./start-renewal.js";
import { verifyDomain } from "./verify-domain.js";

/**
 * CertificateRequestService — unkeyed service, public on the ingress: checks a request to start
 * certificate work, then sends it to the ingress-private `CertificateService`. See api.ts.
 */
export function createCertificateRequestService(deps: WorkerDeps) {
  return restate.service({
    name: certificateRequestServiceName,
    handlers: {
      /** Starts issuance of an existing custom domain's certificate. */
      issue: async (ctx: restate.Context, req: IssueCertificateRequest): Promise<CertificateRequestResult> =>
        issueCertificate(ctx, deps.db, req),
      /** Starts today's renewal run (idempotent per day). */
      startRenewal: async (ctx: restate.Context, req: StartRenewalRequest): Promise<CertificateRequestResult> => startRenewal(ctx, req),
      /** (Re)arms ownership verification of an existing custom domain claim. */
      verifyDomain: async (ctx: restate.Context, req: VerifyDomainRequest): Promise<CertificateRequestResult> =>
        verifyDomain(ctx, deps.db, req),
    },
    options: { ingressPrivate: false },
  });
}
