import { Code, ConnectError } from "@connectrpc/connect";
import {
  ReportDeploymentStatusRequest_Update_Instance_Status as InstanceStatus,
  ReportSentinelStatusRequest_Health as Health,
} from "@ctrl/proto";
import type { Logger } from "pino";
import type { ClusterClient } from "../cluster-client.js";
import type { InstancePhase, ObservedWorkload } from "../workload.js";
import type { SendReport } from "./reporter.js";

const phases: Record<InstancePhase, InstanceStatus> = {
  pending: InstanceStatus.PENDING,
  running: InstanceStatus.RUNNING,
  failed: InstanceStatus.FAILED,
};

/**
 * The image a sentinel's replicas run: the desired one once every running replica runs it, else
 * the one most running replicas run (mid-rollout), "" with none running.
 */
export function runningImage(images: string[], desired: string): string {
  if (images.length === 0) return "";
  if (images.every((i) => i === desired)) return desired;
  const counts = new Map<string, number>();
  for (const i of images) counts.set(i, (counts.get(i) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
}

/**
 * Why the desired image of a sentinel does not run, for the rollout's deploy to fail fast: the
 * first replica of that image that failed for good, as `image_pull_failed: …` /
 * `invalid_manifest: …` (pull) or `start_failed: …` (it exited and was given up), else undefined.
 */
export function sentinelFailure(observed: ObservedWorkload): string | undefined {
  const failed = observed.instances.find((i) => i.phase === "failed" && i.image === observed.image);
  if (!failed) return undefined;
  const reason = (failed.failureReason ?? "failed").slice(0, 1_000);
  if (/^(image_pull_failed|invalid_manifest|start_failed)\b/.test(reason)) return reason;
  const exit = failed.exitCode !== undefined && !/code -?\d+/.test(reason) ? ` (exit code ${failed.exitCode})` : "";
  return `start_failed: ${reason}${exit}`;
}

/**
 * Sends a workload's observed state as ReportDeploymentStatus (every instance) or
 * ReportSentinelStatus (health, running image and addresses, why a new image fails). A workload
 * the control plane no longer knows is dropped instead of retried forever.
 */
export function createStatusReporter(client: ClusterClient, logger: Logger): SendReport {
  return async (kind, name, observed) => {
    try {
      if (kind === "deployment") await client.reportDeploymentStatus(deploymentReport(name, observed));
      else await client.reportSentinelStatus(sentinelReport(name, observed));
    } catch (err) {
      // The control plane no longer knows it: nothing left to report, do not retry forever.
      if (err instanceof ConnectError && err.code === Code.NotFound) {
        logger.warn({ kind, workload: name }, "control plane does not know this workload; dropping its report");
        return;
      }
      throw err;
    }
  };
}

function deploymentReport(name: string, observed: ObservedWorkload | undefined) {
  return {
    change: observed
      ? {
          case: "update" as const,
          value: {
            k8sName: name,
            instances: observed.instances.map((i) => ({
              k8sName: i.name,
              address: i.address,
              cpuMillicores: BigInt(i.cpuMillicores),
              memoryMib: BigInt(i.memoryMib),
              status: phases[i.phase],
              ...(i.exitCode !== undefined ? { exitCode: i.exitCode } : {}),
              failureReason: i.failureReason ?? "",
              haltIntent: i.haltIntent ?? "",
              ...(i.halt
                ? {
                    halt: {
                      reason: i.halt.reason,
                      planName: i.halt.planName ?? "",
                      height: BigInt(i.halt.height ?? 0),
                      info: i.halt.info ?? "",
                      announcedAt: BigInt(i.halt.announcedAt ?? 0),
                    },
                  }
                : {}),
            })),
          },
        }
      : { case: "delete" as const, value: { k8sName: name } },
  };
}

function sentinelReport(name: string, observed: ObservedWorkload | undefined) {
  const running = observed?.instances.filter((i) => i.phase === "running") ?? [];
  const desired = observed?.desiredReplicas ?? 0;
  const failure = observed ? sentinelFailure(observed) : undefined;
  return {
    k8sName: name,
    availableReplicas: running.length,
    health: desired === 0 ? Health.PAUSED : running.length >= desired ? Health.HEALTHY : Health.UNHEALTHY,
    image: runningImage(
      running.map((i) => i.image),
      observed?.image ?? "",
    ),
    addresses: running.map((i) => i.address),
    failureReason: failure ?? "",
    failureImage: failure ? observed!.image : "",
    converged: desired > 0 && running.length >= desired && running.every((i) => i.image === observed!.image),
  };
}
