import type { ServiceImpl } from "@connectrpc/connect";
import type { DomainService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { addCustomDomainRpc } from "./add-custom-domain.js";
import { getCustomDomainRpc } from "./get-custom-domain.js";
import { listCustomDomainsRpc } from "./list-custom-domains.js";
import { removeCustomDomainRpc } from "./remove-custom-domain.js";
import { retryCustomDomainRpc } from "./retry-custom-domain.js";

/** DomainService: custom domains and their certificates; one file per method in this folder. */
export function createDomainService(deps: ApiDeps): ServiceImpl<typeof DomainService> {
  return {
    addCustomDomain: (req, ctx) => addCustomDomainRpc(deps, req, ctx),
    getCustomDomain: (req, ctx) => getCustomDomainRpc(deps, req, ctx),
    retryCustomDomain: (req, ctx) => retryCustomDomainRpc(deps, req, ctx),
    listCustomDomains: (req, ctx) => listCustomDomainsRpc(deps, req, ctx),
    removeCustomDomain: (req, ctx) => removeCustomDomainRpc(deps, req, ctx),
  };
}
