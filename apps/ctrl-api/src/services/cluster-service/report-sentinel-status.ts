import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { clearSentinelDeployWait, findSentinelDeployWait, parseSentinelFailure, recordSentinelReport, type SentinelHealth } from "@ctrl/db";
import type { SentinelReportOutcome } from "@ctrl/ctrl-worker/api";
import { connectErrorFromRestate } from "../../restate-errors.js";
import {
  ReportSentinelStatusRequest_Health as Health,
  type ReportSentinelStatusRequest,
  type ReportSentinelStatusResponseSchema,
} from "@ctrl/proto";
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
 *
 * When a `SentinelService.deploy` waits on this sentinel (an awakeable armed on its row), the
 * report ends the wait: every replica running the awaited image → `{ok: true}`; a replica of that
 * image failed for good → `{ok: false, reason}`. If Restate cannot be reached the RPC fails
 * `unavailable`, so the agent reports again and the wait is not lost.
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
  if (req.addresses.length > 1_000 || req.addresses.some((a) => a.length > 255))
    throw new ConnectError("addresses: at most 1000, each at most 255 characters", Code.InvalidArgument);
  // Frontline dials these: they must be the agent's own host and ports, never a control-plane port.
  for (const [n, a] of req.addresses.entries()) checkReportedAddress(agent, a, `addresses[${n}]`);
  const found = await recordSentinelReport(
    deps.db,
    region,
    k8sName,
    {
      availableReplicas: req.availableReplicas,
      health: healths[req.health] ?? "unknown",
      runningImage: req.image || null,
      addresses: req.addresses,
      failure:
        req.failureReason && req.failureImage
          ? { reason: req.failureReason.slice(0, 2_000), image: req.failureImage.slice(0, 2_048) }
          : null,
    },
    (deps.now ?? Date.now)(),
  );
  if (!found) throw new ConnectError(`sentinel ${k8sName} not found in region ${region}`, Code.NotFound);
  await endDeployWait(deps, region, k8sName, req);
  return {};
}

/** Resolves the awakeable of a deploy waiting on this sentinel when the report settles it. */
async function endDeployWait(deps: ApiDeps, region: string, k8sName: string, req: ReportSentinelStatusRequest): Promise<void> {
  const wait = await findSentinelDeployWait(deps.db, region, k8sName);
  if (!wait) return;
  let outcome: SentinelReportOutcome | undefined;
  if (req.converged && req.image === wait.image && req.health === Health.HEALTHY && req.availableReplicas >= wait.desiredReplicas)
    outcome = { ok: true };
  else if (req.failureReason && req.failureImage === wait.image) outcome = { ok: false, ...parseSentinelFailure(req.failureReason) };
  if (!outcome) return;
  try {
    await deps.restate.resolveAwakeable(wait.awakeableId, outcome);
  } catch (err) {
    throw connectErrorFromRestate(err, `ending the deploy wait of sentinel ${wait.sentinelId}`);
  }
  await clearSentinelDeployWait(deps.db, wait.sentinelId, wait.awakeableId);
  deps.logger.info({ sentinelId: wait.sentinelId, image: wait.image, ok: outcome.ok }, "sentinel deploy wait ended by report");
}
