import type { HandlerContext } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { GetCustomDomainResponseSchema, type GetCustomDomainRequest, type GetCustomDomainResponse } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { getCustomDomain } from "./custom-domains.js";
import { toProto } from "./messages.js";

/** `DomainService.GetCustomDomain`: verification and certificate state of one domain. */
export async function getCustomDomainRpc(
  deps: ApiDeps,
  req: GetCustomDomainRequest,
  ctx: HandlerContext,
): Promise<GetCustomDomainResponse> {
  return create(GetCustomDomainResponseSchema, { domain: toProto(await getCustomDomain(deps, ctx.values.get(principalKey), req.domain)) });
}
