import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { findTopologyRow } from "@ctrl/db";
import type { DeploymentState, GetDesiredDeploymentStateRequest } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { regionOfUnary, requireAgent } from "./agent.js";
import { deploymentEnvBytes } from "./deployment-env.js";
import { deploymentState } from "./messages.js";

/** ClusterService.GetDesiredDeploymentState: one deployment's desired state in the caller's region (version unset). */
export async function getDesiredDeploymentState(
  deps: ApiDeps,
  req: GetDesiredDeploymentStateRequest,
  ctx: HandlerContext,
): Promise<DeploymentState> {
  const agent = requireAgent(ctx);
  const region = regionOfUnary(ctx, agent);
  const deploymentId = req.deploymentId.trim();
  if (!deploymentId) throw new ConnectError("deployment_id is required", Code.InvalidArgument);
  const row = await findTopologyRow(deps.db, region, deploymentId);
  if (!row) throw new ConnectError(`deployment ${deploymentId} has no desired state in region ${region}`, Code.NotFound);
  const env =
    row.desiredStatus === "running" ? await deploymentEnvBytes(deps, row.environmentId, row.deploymentId, region) : new Uint8Array();
  return deploymentState(row, false, env);
}
