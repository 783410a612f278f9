import type { ServiceImpl } from "@connectrpc/connect";
import type { DeploymentService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { cancelRollout } from "./cancel-rollout.js";
import { createDeploymentRpc } from "./create-deployment.js";
import { createS3UploadUrl } from "./create-s3-upload-url.js";
import { getDeployment } from "./get-deployment.js";
import { getDeploymentLogs } from "./get-deployment-logs.js";
import { getRuntimeLogs } from "./get-runtime-logs.js";
import { listDeployments } from "./list-deployments.js";
import { pauseRollout } from "./pause-rollout.js";
import { promote } from "./promote.js";
import { resumeRollout } from "./resume-rollout.js";
import { rollback } from "./rollback.js";
import { watchDeployment } from "./watch-deployment.js";

/** DeploymentService: one file per method in this folder. */
export function createDeploymentService(deps: ApiDeps): ServiceImpl<typeof DeploymentService> {
  return {
    createS3UploadURL: (req, ctx) => createS3UploadUrl(deps, req, ctx),
    createDeployment: (req, ctx) => createDeploymentRpc(deps, req, ctx),
    getDeployment: (req, ctx) => getDeployment(deps, req, ctx),
    rollback: (req, ctx) => rollback(deps, req, ctx),
    promote: (req, ctx) => promote(deps, req, ctx),
    listDeployments: (req, ctx) => listDeployments(deps, req, ctx),
    watchDeployment: (req, ctx) => watchDeployment(deps, req, ctx),
    getDeploymentLogs: (req, ctx) => getDeploymentLogs(deps, req, ctx),
    getRuntimeLogs: (req, ctx) => getRuntimeLogs(deps, req, ctx),
    pauseRollout: (req, ctx) => pauseRollout(deps, req, ctx),
    resumeRollout: (req, ctx) => resumeRollout(deps, req, ctx),
    cancelRollout: (req, ctx) => cancelRollout(deps, req, ctx),
  };
}
