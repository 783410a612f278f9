import type { HandlerContext } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { ListCustomDomainsResponseSchema, type ListCustomDomainsRequest, type ListCustomDomainsResponse } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { listCustomDomains } from "./custom-domains.js";
import { toProto } from "./messages.js";

/** `DomainService.ListCustomDomains`: a project's domains with verification, certificate and routing state. */
export async function listCustomDomainsRpc(
  deps: ApiDeps,
  req: ListCustomDomainsRequest,
  ctx: HandlerContext,
): Promise<ListCustomDomainsResponse> {
  const views = await listCustomDomains(deps, ctx.values.get(principalKey), req);
  return create(ListCustomDomainsResponseSchema, { domains: views.map(toProto) });
}
