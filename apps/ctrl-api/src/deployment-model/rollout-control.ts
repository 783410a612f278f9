import { Code, ConnectError } from "@connectrpc/connect";
import { compareAndSetControlState, findDeploymentRollout } from "@ctrl/db";
import { decideControl, type ControlOperation, type ControlState, type RolloutState } from "@ctrl/rollout";
import type { Principal } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { authorizeDeployment, deploymentPermissions } from "./access.js";
import { rolloutView, type RolloutView } from "./rollout-view.js";

/** How often a control operation re-reads and decides again after losing a race to another writer. */
export const controlAttempts = 5;

/**
 * Pause, resume or cancel a deployment's rollout, shared by the Connect RPCs and `/v2`: authorizes
 * (`rollout_deployment`), reads the rollout's row (none → `failed_precondition`), applies
 * `decideControl` (a refusal → `failed_precondition` with its reason) and writes the new control
 * state with a compare-and-set. When another writer (an operator, or the workflow's progress, which
 * never touches `control_state`) changed the control state in between, it reads again and decides
 * again, at most {@link controlAttempts} times; then `aborted` (retry). Returns the rollout as stored
 * after the write. The running workflow re-reads `control_state` before every step; nothing is
 * signalled here.
 */
export async function controlRollout(
  deps: ApiDeps,
  principal: Principal | undefined,
  deploymentId: string,
  operation: ControlOperation,
): Promise<RolloutView> {
  const owner = await authorizeDeployment(deps.db, principal, deploymentId, deploymentPermissions.rollout);
  const policy = await deps.db.selectFrom("deployments").select("rollout_policy").where("id", "=", owner.id).executeTakeFirst();
  const now = deps.now ?? Date.now;
  for (let attempt = 1; attempt <= controlAttempts; attempt++) {
    const row = await findDeploymentRollout(deps.db, owner.id);
    if (!row)
      throw new ConnectError(
        `deployment ${owner.id} has no rollout (it has not started rolling out, or predates rollouts)`,
        Code.FailedPrecondition,
      );
    const decision = decideControl(operation, row.state as RolloutState, row.control_state as ControlState);
    if (!decision.ok) throw new ConnectError(`cannot ${operation} the rollout of ${owner.id}: ${decision.reason}`, Code.FailedPrecondition);
    if (await compareAndSetControlState(deps.db, owner.id, row.control_state, decision.control, now())) {
      deps.logger.info(
        { deploymentId: owner.id, projectId: owner.project_id, operation, from: row.control_state, to: decision.control, state: row.state },
        "rollout control state changed",
      );
      const stored = await findDeploymentRollout(deps.db, owner.id);
      return rolloutView(stored ?? { ...row, control_state: decision.control }, policy?.rollout_policy ?? null);
    }
  }
  throw new ConnectError(
    `the rollout of ${owner.id} kept changing while ${operation} was applied (${controlAttempts} attempts); try again`,
    Code.Aborted,
  );
}
