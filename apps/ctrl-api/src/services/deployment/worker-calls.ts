import type { deploymentServiceName as DeploymentServiceNameConst, PromoteRequest, RollbackRequest, SwitchResult } from "@ctrl/ctrl-worker/api";
import * as clients from "@restatedev/restate-sdk-clients";
import type { ApiDeps } from "../../deps.js";
import { connectErrorFromRestate } from "../../restate-errors.js";

/** The worker's `DeploymentService` name, checked against its contract at compile time. */
export const deploymentServiceName: typeof DeploymentServiceNameConst = "DeploymentService";

/** The handlers of the worker's `DeploymentService` (virtual object, key = project id) we call. */
export type DeploymentServiceShape = {
  rollback: (ctx: unknown, request: RollbackRequest) => Promise<SwitchResult>;
  promote: (ctx: unknown, request: PromoteRequest) => Promise<SwitchResult>;
};

/**
 * Calls `DeploymentService.<handler>` of `projectId` through the Restate ingress and turns its
 * TerminalError into the precise Connect code (see restate-errors.ts). `signal` is the RPC's, so a
 * cancelled request stops waiting (the switch itself, once accepted, still completes).
 */
export async function callDeploymentService<H extends keyof DeploymentServiceShape>(
  deps: ApiDeps,
  projectId: string,
  handler: H,
  request: Parameters<DeploymentServiceShape[H]>[1],
  signal: AbortSignal,
): Promise<SwitchResult> {
  const client = deps.restate.objectClient<DeploymentServiceShape>({ name: deploymentServiceName }, projectId);
  try {
    const call = client[handler] as (req: typeof request, opts: clients.Opts<typeof request, SwitchResult>) => PromiseLike<SwitchResult>;
    return await call(request, clients.rpc.opts({ signal }));
  } catch (err) {
    throw connectErrorFromRestate(err, `${handler} of project ${projectId}`);
  }
}
