import type { ServiceImpl } from "@connectrpc/connect";
import type { EnvironmentService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { getRolloutPolicy } from "./get-rollout-policy.js";
import { setRolloutPolicy } from "./set-rollout-policy.js";

/** EnvironmentService (an environment's settings): one file per method in this folder. */
export function createEnvironmentService(deps: ApiDeps): ServiceImpl<typeof EnvironmentService> {
  return {
    getRolloutPolicy: (req, ctx) => getRolloutPolicy(deps, req, ctx),
    setRolloutPolicy: (req, ctx) => setRolloutPolicy(deps, req, ctx),
  };
}
