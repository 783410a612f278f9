import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { deleteReportedInstances, findTopologyRow, replaceReportedInstances, type InstanceStatus, type ReportedInstance } from "@ctrl/db";
import {
  ReportDeploymentStatusRequest_Update_Instance_Status as InstanceStatusProto,
  type ReportDeploymentStatusRequest,
  type ReportDeploymentStatusResponseSchema,
} from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { checkReportedAddress, regionOfUnary, requireAgent } from "./agent.js";
import { haltDetailOf, superviseHalts } from "./halt-reports.js";

const statuses: Record<InstanceStatusProto, InstanceStatus> = {
  [InstanceStatusProto.UNSPECIFIED]: "pending",
  [InstanceStatusProto.PENDING]: "pending",
  [InstanceStatusProto.RUNNING]: "running",
  [InstanceStatusProto.FAILED]: "failed",
};

/** Most instances one report may carry (a deployment's replicas in one region). */
const maxInstancesPerReport = 1_000;

/**
 * ClusterService.ReportDeploymentStatus, for the credential's region:
 * `update{k8s_name = deployment id, instances}` upserts the reported instances and removes the
 * deployment's other instances in that region, in one transaction; `delete{k8s_name}` removes all
 * of them. Other regions' instances are never touched. Only a deployment with desired state
 * (a topology row) in the region may be reported (`not_found` otherwise: an agent reports only what
 * it was told to run), and every address must be on the credential's hosts and ports
 * (`invalid_argument`, nothing stored).
 */
export async function reportDeploymentStatus(
  deps: ApiDeps,
  req: ReportDeploymentStatusRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof ReportDeploymentStatusResponseSchema>> {
  const agent = requireAgent(ctx);
  const region = regionOfUnary(ctx, agent);
  const now = (deps.now ?? Date.now)();
  const change = req.change;
  if (change.case === "delete") {
    const deploymentId = change.value.k8sName.trim();
    if (!deploymentId) throw new ConnectError("delete.k8s_name is required", Code.InvalidArgument);
    await requireDesiredState(deps, region, deploymentId);
    await deleteReportedInstances(deps.db, deploymentId, region);
    deps.logger.info({ deploymentId, region }, "agent deleted deployment instances");
    return {};
  }
  if (change.case !== "update") throw new ConnectError("one of update or delete is required", Code.InvalidArgument);
  const deploymentId = change.value.k8sName.trim();
  if (!deploymentId) throw new ConnectError("update.k8s_name is required (the deployment id)", Code.InvalidArgument);
  if (change.value.instances.length > maxInstancesPerReport)
    throw new ConnectError(`at most ${maxInstancesPerReport} instances per report`, Code.InvalidArgument);
  const seen = new Set<string>();
  const instances: ReportedInstance[] = change.value.instances.map((i, n) => {
    const k8sName = i.k8sName.trim();
    if (!k8sName || k8sName.length > 255)
      throw new ConnectError(`update.instances[${n}].k8s_name must be 1-255 characters`, Code.InvalidArgument);
    if (seen.has(k8sName)) throw new ConnectError(`update.instances[${n}].k8s_name "${k8sName}" is reported twice`, Code.InvalidArgument);
    seen.add(k8sName);
    if (i.address.length > 255)
      throw new ConnectError(`update.instances[${n}].address is longer than 255 characters`, Code.InvalidArgument);
    checkReportedAddress(agent, i.address, `update.instances[${n}].address`);
    return {
      k8sName,
      address: i.address,
      cpuMillicores: Number(i.cpuMillicores),
      memoryMib: Number(i.memoryMib),
      status: statuses[i.status] ?? "pending",
      exitCode: i.exitCode ?? null,
      haltIntent: i.haltIntent || null,
      failureReason: i.failureReason ? i.failureReason.slice(0, 4096) : null,
      haltDetail: haltDetailOf(i),
    };
  });
  const owner = await requireDesiredState(deps, region, deploymentId);
  await replaceReportedInstances(
    deps.db,
    { deploymentId, workspaceId: owner.workspaceId, projectId: owner.projectId },
    region,
    instances,
    now,
  );
  await superviseHalts(deps, deploymentId, change.value.instances);
  deps.logger.debug(
    { deploymentId, region, instances: instances.length, running: instances.filter((i) => i.status === "running").length },
    "agent reported instances",
  );
  return {};
}

/** The deployment's topology row in `region`; `not_found` when it has none (never told to run there). */
async function requireDesiredState(deps: ApiDeps, region: string, deploymentId: string) {
  const row = await findTopologyRow(deps.db, region, deploymentId);
  if (!row)
    throw new ConnectError(
      `deployment ${deploymentId} has no desired state in region ${region}: an agent may report only deployments it was told to run`,
      Code.NotFound,
    );
  return row;
}
