import { customDomainExists, type Db } from "@ctrl/db";
import type * as restate from "@restatedev/restate-sdk";
import { terminal } from "../../errors.js";
import { domainVerificationServiceName, type DomainVerificationServiceApi } from "../domain-verification-service/api.js";
import type { CertificateRequestResult, VerifyDomainRequest } from "./api.js";

const claimIdPattern = /^dom_[1-9A-HJ-NP-Za-km-z]{1,64}$/;

/**
 * `CertificateRequestService.verifyDomain`: (re)arms `DomainVerificationService` of a custom domain
 * claim that exists. An unknown id is refused (not_found), so a caller of the ingress cannot make
 * the worker look up names nobody claimed; the check itself only compares DNS with the stored value.
 */
export async function verifyDomain(ctx: restate.Context, db: Db, req: VerifyDomainRequest): Promise<CertificateRequestResult> {
  const claimId = req?.claimId;
  if (typeof claimId !== "string" || !claimIdPattern.test(claimId))
    throw terminal("invalid_argument", "claimId must be a custom domain id (dom_…)");
  const known = await ctx.run("find claim", () => customDomainExists(db, { id: claimId }));
  if (!known) throw terminal("not_found", `custom domain ${claimId} not found; add it (AddCustomDomain) before verifying it`);
  ctx.objectSendClient<DomainVerificationServiceApi>({ name: domainVerificationServiceName }, claimId).arm({});
  return { key: claimId, handler: "arm" };
}
