import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { recordSentinelReport, type SentinelHealth } from "@ctrl/db";
import { ReportSentinelStatusRequest_Health as Health, type ReportSentinelStatusRequest, type ReportSentinelStatusResponseSchema } from "@ctrl/proto";
import type { ApiDeps } from "../../deps.js";
import { checkReportedAddress, regionOfUnary, requireAgent } from "./agent.js";

const healths: Record<Health, SentinelHealth> = {
  [Health.UNSPECIFIED]: "unknown",
  [Health.HEALTHY]: "healthy",
  [Health.UNHEALTHY]: "unhealthy",
  [Health.PAUSED]: "paused",
};

/**
 * ClusterService.ReportSentinelStatus: records the health, available replicas, running image and
 * ready addresses of the sentinel with that k8s name in the credential's region (a sentinel of
 * another region is `not_found`; addresses are checked like instance addresses). Actual state only: it
 * takes no version (agents do not stream it back).
 */
export async function reportSentinelStatus(
  deps: ApiDeps,
  req: ReportSentinelStatusRequest,
  ctx: HandlerContext,
): Promise<MessageInitShape<typeof ReportSentinelStatusResponseSchema>> {
  const agent = requireAgent(ctx);
  const region = regionOfUnary(ctx, agent);
  const k8sName = req.k8sName.trim();
  if (!k8sName) throw new ConnectError("k8s_name is required", Code.InvalidArgument);
  if (req.availableReplicas < 0) throw new ConnectError("available_replicas must not be negative", Code.InvalidArgument);
  if (req.addresses.length > 1_000 || req.addresses.some((a) => a.length > 255)) throw new ConnectError("addresses: at most 1000, each at most 255 characters", Code.InvalidArgument);
  // Frontline dials these: they must be the agent's own host and ports, never a control-plane port.
  req.addresses.forEach((a, n) => checkReportedAddress(agent, a, `addresses[${n}]`));
  const found = await recordSentinelReport(
    deps.db,
    region,
    k8sName,
    { availableReplicas: req.availableReplicas, health: healths[req.health] ?? "unknown", runningImage: req.image || null, addresses: req.addresses },
    (deps.now ?? Date.now)(),
  );
  if (!found) throw new ConnectError(`sentinel ${k8sName} not found in region ${region}`, Code.NotFound);
  return {};
}
