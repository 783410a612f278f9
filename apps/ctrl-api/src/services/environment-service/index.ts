import type { ServiceImpl } from "@connectrpc/connect";
import type { EnvironmentService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { createEnvironment } from "./create-environment.js";
import { deleteEnvironment } from "./delete-environment.js";
import { getRolloutPolicy } from "./get-rollout-policy.js";
import { listEnvironments } from "./list-environments.js";
import { setRolloutPolicy } from "./set-rollout-policy.js";
import { updateEnvironment } from "./update-environment.js";

/** EnvironmentService (a project's environments and their settings): one file per method in this folder. */
export function createEnvironmentService(deps: ApiDeps): ServiceImpl<typeof EnvironmentService> {
  return {
    getRolloutPolicy: (req, ctx) => getRolloutPolicy(deps, req, ctx),
    setRolloutPolicy: (req, ctx) => setRolloutPolicy(deps, req, ctx),
    createEnvironment: (req, ctx) => createEnvironment(deps, req, ctx),
    listEnvironments: (req, ctx) => listEnvironments(deps, req, ctx),
    updateEnvironment: (req, ctx) => updateEnvironment(deps, req, ctx),
    deleteEnvironment: (req, ctx) => deleteEnvironment(deps, req, ctx),
  };
}
