import type { ServiceImpl } from "@connectrpc/connect";
import type { AcmeService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { verifyCertificate } from "./verify-certificate.js";

/** AcmeService: HTTP-01 challenge lookups for frontline. */
export function createAcmeService(deps: ApiDeps): ServiceImpl<typeof AcmeService> {
  return {
    verifyCertificate: (req) => verifyCertificate(deps, req),
  };
}
