import type { ServiceImpl } from "@connectrpc/connect";
import type { HaltService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { acknowledgeHalt } from "./acknowledge-halt.js";

/** HaltService: a person's side of halt supervision (docs/halt-contract.md). */
export function createHaltService(deps: ApiDeps): ServiceImpl<typeof HaltService> {
  return {
    acknowledgeHalt: (req, ctx) => acknowledgeHalt(deps, req, ctx),
  };
}
