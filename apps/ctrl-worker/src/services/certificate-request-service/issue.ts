import { customDomainExists, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { terminal } from "../../errors.js";
import { certificateServiceName, type CertificateServiceApi } from "../certificate-service/api.js";
import type { CertificateRequestResult, IssueCertificateRequest } from "./api.js";

/** Longest DNS name (RFC 1035), the bound of `custom_domains.domain`. */
const maxDomainLength = 253;

/**
 * `CertificateRequestService.issue`: starts `CertificateService.processChallenge` of a custom domain
 * that exists. An unknown name is refused (not_found) before anything reaches the ACME flow, so a
 * caller of the ingress cannot make the worker order certificates for names nobody added.
 */
export async function issueCertificate(ctx: restate.Context, db: Db, req: IssueCertificateRequest): Promise<CertificateRequestResult> {
  const domain = req?.domain;
  if (typeof domain !== "string" || domain.length === 0 || domain.length > maxDomainLength) {
    throw terminal("invalid_argument", `domain must be a non-empty string of at most ${maxDomainLength} characters`);
  }
  const known = await ctx.run("find custom domain", () => customDomainExists(db, { domain }));
  if (!known) throw terminal("not_found", `custom domain ${domain} not found; add it (AddCustomDomain) before requesting its certificate`);
  ctx.objectSendClient<CertificateServiceApi>({ name: certificateServiceName }, domain).processChallenge({});
  return { key: domain, handler: "processChallenge" };
}
