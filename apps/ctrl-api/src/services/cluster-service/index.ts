import type { ServiceImpl } from "@connectrpc/connect";
import type { ClusterService } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { getDesiredDeploymentState } from "./get-desired-deployment-state.js";
import { getDesiredSentinelState } from "./get-desired-sentinel-state.js";
import { pushInstanceLogs } from "./push-instance-logs.js";
import { reportDeploymentStatus } from "./report-deployment-status.js";
import { reportSentinelStatus } from "./report-sentinel-status.js";
import { watchDeployments } from "./watch-deployments.js";
import { watchSentinels } from "./watch-sentinels.js";

/**
 * ClusterService, the agents' sync protocol (docs/wire.md): agent credentials only, each bound to
 * one region (a different `X-Krane-Region` or request region is `permission_denied`). One file per method in this folder.
 */
export function createClusterService(deps: ApiDeps): ServiceImpl<typeof ClusterService> {
  return {
    watchDeployments: (req, ctx) => watchDeployments(deps, req, ctx),
    watchSentinels: (req, ctx) => watchSentinels(deps, req, ctx),
    getDesiredDeploymentState: (req, ctx) => getDesiredDeploymentState(deps, req, ctx),
    getDesiredSentinelState: (req, ctx) => getDesiredSentinelState(deps, req, ctx),
    reportDeploymentStatus: (req, ctx) => reportDeploymentStatus(deps, req, ctx),
    reportSentinelStatus: (req, ctx) => reportSentinelStatus(deps, req, ctx),
    pushInstanceLogs: (req, ctx) => pushInstanceLogs(deps, req, ctx),
  };
}
