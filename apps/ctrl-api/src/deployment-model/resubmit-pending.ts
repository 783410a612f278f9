import type { DeployWorkflowApi } from "@ctrl/ctrl-worker/api";
import { deployWorkflowName } from "@ctrl/ctrl-worker/contract";
import { listStalePendingDeploymentIds } from "@ctrl/db";
import type { ApiDeps } from "../deps.js";

/**
 * Closes the gap between CreateDeployment's insert and its workflow submit: if ctrl-api dies in
 * between, the row would stay `pending` with no workflow. A deployment still `pending` after
 * `olderThanMs` is submitted again — safe because the workflow key is the deployment id, so a
 * workflow that exists answers `PreviouslyAccepted` and nothing runs twice. Returns how many
 * submissions started a workflow that did not exist.
 */
export async function resubmitStalePending(deps: ApiDeps, olderThanMs: number, limit = 100): Promise<number> {
  const now = (deps.now ?? Date.now)();
  const stale = await listStalePendingDeploymentIds(deps.db, now - olderThanMs, limit);
  let started = 0;
  for (const id of stale) {
    try {
      const submission = await deps.restate
        .workflowClient<DeployWorkflowApi>({ name: deployWorkflowName }, id)
        .workflowSubmit({ deploymentId: id });
      if (submission.status === "Accepted") {
        started++;
        deps.logger.warn({ deploymentId: id }, "pending deployment had no workflow; started it");
      }
    } catch (err) {
      deps.logger.warn({ err, deploymentId: id }, "could not resubmit a pending deployment; will retry");
    }
  }
  return started;
}

/**
 * Runs {@link resubmitStalePending} every `intervalMs` until the returned stop function is called.
 * Every replica may run it: the resubmission is idempotent.
 */
export function startPendingSweeper(deps: ApiDeps, options: { intervalMs: number; olderThanMs: number }): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      await resubmitStalePending(deps, options.olderThanMs);
    } catch (err) {
      deps.logger.error({ err }, "pending sweep failed");
    }
    if (!stopped) timer = setTimeout(tick, options.intervalMs).unref();
  };
  timer = setTimeout(tick, options.intervalMs).unref();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
