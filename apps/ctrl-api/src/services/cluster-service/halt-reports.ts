import { Code, ConnectError } from "@connectrpc/connect";
import type { OnHaltRequest, SupervisorServiceApi } from "@ctrl/ctrl-worker/api";
import { haltReasonByExitCode, supervisorServiceName } from "@ctrl/ctrl-worker/contract";
import type { ReportDeploymentStatusRequest_Update_Instance as ReportedInstanceProto } from "@ctrl/proto";
import * as clients from "@restatedev/restate-sdk-clients";
import type { ApiDeps } from "../../deps.js";

/** The halt reason of a reported instance: its live intent's, else its exit code's; undefined when it did not halt. */
export function haltReasonOf(i: Pick<ReportedInstanceProto, "exitCode" | "halt">): string | undefined {
  const reason = i.halt?.reason.trim();
  if (reason) return reason.slice(0, 64);
  return i.exitCode !== undefined ? haltReasonByExitCode[i.exitCode] : undefined;
}

/** The structured intent of a report as stored in `instances.halt_detail` (JSON), or null. */
export function haltDetailOf(i: Pick<ReportedInstanceProto, "halt">): string | null {
  const h = i.halt;
  if (!h?.reason) return null;
  return JSON.stringify({
    reason: h.reason.slice(0, 64),
    plan_name: h.planName.slice(0, 255),
    height: Number(h.height),
    info: h.info.slice(0, 4096),
    announced_at: Number(h.announcedAt),
  });
}

/**
 * Hands every halted instance of a report to `SupervisorService.onHalt` of the deployment, once per
 * instance and halt: the send's idempotency key is `<deployment>:<instance>:<reason>:<exit code|live>`, so the
 * agent's repeated reports of the same halt start one invocation (and the supervisor's record
 * keeps it to one action after the key expires). A send Restate does not accept fails the report
 * with `unavailable` (the instances are already stored): the agent retries it.
 */
export async function superviseHalts(deps: ApiDeps, deploymentId: string, instances: ReportedInstanceProto[]): Promise<number> {
  let sent = 0;
  for (const i of instances) {
    const reason = haltReasonOf(i);
    if (!reason) continue;
    const k8sName = i.k8sName.trim();
    const req: OnHaltRequest = {
      instance: k8sName,
      ...(i.exitCode !== undefined ? { exitCode: i.exitCode } : {}),
      ...(i.halt?.reason
        ? {
            intent: {
              reason: i.halt.reason.slice(0, 64),
              ...(i.halt.planName ? { planName: i.halt.planName.slice(0, 255) } : {}),
              ...(i.halt.height ? { height: Number(i.halt.height) } : {}),
              ...(i.halt.info ? { info: i.halt.info.slice(0, 4096) } : {}),
              ...(i.halt.announcedAt ? { announcedAt: Number(i.halt.announcedAt) } : {}),
            },
          }
        : {}),
    };
    // An exit reported after a live intent is a second send (it carries the exit code): same halt, recorded once.
    const key = `${deploymentId}:${k8sName}:${reason}:${i.exitCode ?? "live"}`;
    try {
      await deps.restate
        .objectSendClient<SupervisorServiceApi>({ name: supervisorServiceName }, deploymentId)
        .onHalt(req, clients.rpc.sendOpts({ idempotencyKey: key }));
      sent++;
    } catch (err) {
      deps.logger.error({ deploymentId, instance: k8sName, reason, err }, "handing a halt to the supervisor failed");
      throw new ConnectError(`the halt of ${k8sName} could not be handed to the supervisor; report again`, Code.Unavailable);
    }
  }
  if (sent) deps.logger.warn({ deploymentId, halts: sent }, "agent reported halted instances; supervisor notified");
  return sent;
}
