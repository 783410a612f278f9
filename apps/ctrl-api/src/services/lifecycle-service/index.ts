import type { ServiceImpl } from "@connectrpc/connect";
import type { DeploymentLifecycleService } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import type { ApiDeps } from "../../deps.js";
import { cancelDeployment } from "./cancel-deployment.js";
import { deleteDeployment } from "./delete-deployment.js";
import { redeploy } from "./redeploy.js";
import { setDeploymentState } from "./set-deployment-state.js";

/** DeploymentLifecycleService: one file per method in this folder, each shared with its `/v2` endpoint. */
export function createLifecycleService(deps: ApiDeps): ServiceImpl<typeof DeploymentLifecycleService> {
  return {
    redeploy: (req, ctx) => redeploy(deps, ctx.values.get(principalKey), req),
    cancelDeployment: (req, ctx) => cancelDeployment(deps, ctx.values.get(principalKey), req),
    stopDeployment: (req, ctx) => setDeploymentState(deps, ctx.values.get(principalKey), req, "standby"),
    startDeployment: (req, ctx) => setDeploymentState(deps, ctx.values.get(principalKey), req, "running"),
    deleteDeployment: (req, ctx) => deleteDeployment(deps, ctx.values.get(principalKey), req),
  };
}
