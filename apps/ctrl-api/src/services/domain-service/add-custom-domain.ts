import type { HandlerContext } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { AddCustomDomainResponseSchema, ChallengeType, type AddCustomDomainRequest, type AddCustomDomainResponse } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { addCustomDomain } from "./custom-domains.js";
import { toProto } from "./messages.js";

/** `DomainService.AddCustomDomain`: attach, route and start issuance (see custom-domains.ts). */
export async function addCustomDomainRpc(
  deps: ApiDeps,
  req: AddCustomDomainRequest,
  ctx: HandlerContext,
): Promise<AddCustomDomainResponse> {
  const challengeType =
    req.challengeType === ChallengeType.HTTP_01 ? "http-01" : req.challengeType === ChallengeType.DNS_01 ? "dns-01" : undefined;
  const view = await addCustomDomain(deps, ctx.values.get(principalKey), {
    projectId: req.projectId,
    environmentSlug: req.environmentSlug,
    domain: req.domain,
    challengeType,
  });
  return create(AddCustomDomainResponseSchema, { domain: toProto(view) });
}
