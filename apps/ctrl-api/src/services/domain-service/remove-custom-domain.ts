import type { HandlerContext } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { RemoveCustomDomainResponseSchema, type RemoveCustomDomainRequest, type RemoveCustomDomainResponse } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { removeCustomDomain } from "./custom-domains.js";

/** `DomainService.RemoveCustomDomain`: stop routing the domain and delete its rows and certificate. */
export async function removeCustomDomainRpc(
  deps: ApiDeps,
  req: RemoveCustomDomainRequest,
  ctx: HandlerContext,
): Promise<RemoveCustomDomainResponse> {
  return create(RemoveCustomDomainResponseSchema, await removeCustomDomain(deps, ctx.values.get(principalKey), req.domain));
}
