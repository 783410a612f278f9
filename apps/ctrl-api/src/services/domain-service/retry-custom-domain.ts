import type { HandlerContext } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { RetryCustomDomainResponseSchema, type RetryCustomDomainRequest, type RetryCustomDomainResponse } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { retryCustomDomain } from "./custom-domains.js";
import { toProto } from "./messages.js";

/** `DomainService.RetryCustomDomain`: start issuance again for a failed domain. */
export async function retryCustomDomainRpc(
  deps: ApiDeps,
  req: RetryCustomDomainRequest,
  ctx: HandlerContext,
): Promise<RetryCustomDomainResponse> {
  return create(RetryCustomDomainResponseSchema, {
    domain: toProto(await retryCustomDomain(deps, ctx.values.get(principalKey), req.domain)),
  });
}
