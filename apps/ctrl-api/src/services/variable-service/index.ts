import type { ServiceImpl } from "@connectrpc/connect";
import type { VariableService } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { listVariables } from "./list-variables.js";
import { setVariables } from "./set-variables.js";
import { unsetVariables } from "./unset-variables.js";

/**
 * VariableService (an environment's variables): one file per method in this folder, each shared
 * with its `/v2/variables.*` endpoint.
 */
export function createVariableService(deps: ApiDeps): ServiceImpl<typeof VariableService> {
  return {
    setVariables: (req, ctx) => setVariables(deps, ctx.values.get(principalKey), req),
    listVariables: (req, ctx) => listVariables(deps, ctx.values.get(principalKey), req),
    unsetVariables: (req, ctx) => unsetVariables(deps, ctx.values.get(principalKey), req),
  };
}
