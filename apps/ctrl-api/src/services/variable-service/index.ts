import type { ServiceImpl } from "@connectrpc/connect";
import type { VariableService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { listVariables } from "./list-variables.js";
import { setVariables } from "./set-variables.js";
import { unsetVariables } from "./unset-variables.js";

/** VariableService (an environment's variables): one file per method in this folder. */
export function createVariableService(deps: ApiDeps): ServiceImpl<typeof VariableService> {
  return {
    setVariables: (req, ctx) => setVariables(deps, req, ctx),
    listVariables: (req, ctx) => listVariables(deps, req, ctx),
    unsetVariables: (req, ctx) => unsetVariables(deps, req, ctx),
  };
}
