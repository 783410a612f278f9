import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { terminalDeploymentStatuses } from "@ctrl/db";
import { DeploymentRolloutSchema, type WatchDeploymentRequest, type WatchDeploymentResponseSchema } from "@ctrl/proto";
import { principalKey } from "../../auth.js";
import { authorizeDeployment, deploymentPermissions } from "../../deployment-model/access.js";
import { loadRolloutView, rolloutMessage } from "../../deployment-model/rollout-view.js";
import { loadDeploymentView, protoStatus, stepMessage } from "../../deployment-model/view.js";
import type { ApiDeps } from "../../deps.js";
import { abortableSleep } from "../../watch/sleep.js";

type Event = MessageInitShape<typeof WatchDeploymentResponseSchema>;

/** Default interval between two reads of a watched deployment. */
export const defaultDeploymentWatchPollMs = 200;

/**
 * DeploymentService.WatchDeployment: the deployment's current status first, then every existing
 * step, then each new or changed step and each status change, ending after a terminal status
 * (ready, failed, cancelled). When the deployment has a rollout, an event with the rollout follows
 * whenever its revision moves (the first one after the current status and steps).
 *
 * Each stream reads the deployment (three indexed point queries) every `deploymentWatchPollMs`.
 * We chose a poll per stream over a shared poller because watchers of one deployment are few (a CLI
 * and a dashboard tab) and the reads are primary-key lookups; the agents' region streams, which
 * are many per region, share one poller instead (see `watch/region-hub.ts`). Cancellation by the
 * client aborts `ctx.signal`, which stops the loop at once.
 */
export async function* watchDeployment(deps: ApiDeps, req: WatchDeploymentRequest, ctx: HandlerContext): AsyncGenerator<Event> {
  const owner = await authorizeDeployment(deps.db, ctx.values.get(principalKey), req.deploymentId, deploymentPermissions.read);
  const interval = deps.deploymentWatchPollMs ?? defaultDeploymentWatchPollMs;
  const seenSteps = new Map<string, string>();
  let lastStatus: string | undefined;
  let lastRolloutRevision: number | undefined;
  for (let first = true; !ctx.signal.aborted; first = false) {
    const view = await loadDeploymentView(deps.db, owner.id);
    if (!view) throw new ConnectError(`deployment ${owner.id} no longer exists`, Code.NotFound);
    const d = view.row;
    const status = protoStatus[d.status];
    const statusEvent: Event = {
      status,
      errorMessage: d.error_message ?? "",
      hostnames: view.hostnames,
      failedStep: d.failed_step ?? "",
      failureReason: d.failure_reason ?? "",
    };
    const statusKey = `${d.status}|${d.error_message ?? ""}|${d.failure_reason ?? ""}`;
    if (first) yield statusEvent;
    for (const step of view.steps) {
      const key = `${step.status}|${step.updated_at}|${step.ended_at ?? ""}|${step.error_message ?? ""}|${step.message}`;
      if (seenSteps.get(step.step) === key) continue;
      seenSteps.set(step.step, key);
      yield { status, step: stepMessage(step), errorMessage: d.error_message ?? "" };
    }
    if (!first && statusKey !== lastStatus) yield statusEvent;
    lastStatus = statusKey;
    const rollout = await loadRolloutView(deps.db, owner.id, d.rollout_policy);
    if (rollout && rollout.revision !== lastRolloutRevision) {
      lastRolloutRevision = rollout.revision;
      yield { status, rollout: create(DeploymentRolloutSchema, rolloutMessage(rollout)) };
    }
    if (terminalDeploymentStatuses.includes(d.status)) return;
    await abortableSleep(interval, ctx.signal);
  }
}
