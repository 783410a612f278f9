import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { VerifyCertificateResponseSchema, type VerifyCertificateRequest, type VerifyCertificateResponse } from "@ctrl/proto";
import { findHttpChallengeOfVerifiedDomain } from "@ctrl/db";
import type { ApiDeps } from "../../deps.js";

/**
 * `AcmeService.VerifyCertificate`: the HTTP-01 key authorization frontline serves at
 * `/.well-known/acme-challenge/<token>`. `not_found` — with the same message, so a prober learns
 * nothing — for an unknown or unverified domain, a token that does not match, or a challenge not
 * issued yet.
 * Requires the bearer token (frontline uses the internal token).
 */
export async function verifyCertificate(deps: ApiDeps, req: VerifyCertificateRequest): Promise<VerifyCertificateResponse> {
  const domain = req.domain.trim().toLowerCase().replace(/\.$/, "");
  const token = req.token.trim();
  if (!domain || !token) throw new ConnectError("domain and token are required", Code.InvalidArgument);
  // Only the verified claim of a name is ever sent to ACME; a pending claim's row is never served.
  const row = await findHttpChallengeOfVerifiedDomain(deps.db, domain);
  if (!row || !row.token || !row.authorization || row.token !== token) {
    throw new ConnectError(`no challenge for ${domain} with that token`, Code.NotFound);
  }
  return create(VerifyCertificateResponseSchema, { authorization: row.authorization });
}
