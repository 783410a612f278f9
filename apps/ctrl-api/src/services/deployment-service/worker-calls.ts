import type { DeploymentServiceApi, SwitchResult } from "@ctrl/ctrl-worker/api";
import { deploymentServiceName } from "@ctrl/ctrl-worker/contract";
import * as clients from "@restatedev/restate-sdk-clients";
import type { ApiDeps } from "../../deps.js";
import { connectErrorFromRestate } from "../../restate-errors.js";

/** The worker's `DeploymentService` (virtual object, key = project id) as the ingress client types it. */
type DeploymentClient = clients.IngressClient<clients.VirtualObject<DeploymentServiceApi>>;

/** The handlers ctrl-api calls (`cutover` is the deploy workflow's). */
type CalledHandler = "rollback" | "promote";

/**
 * Calls `DeploymentService.<handler>` of `projectId` through the Restate ingress and turns its
 * TerminalError into the precise Connect code (see restate-errors.ts). `signal` is the RPC's, so a
 * cancelled request stops waiting (the switch itself, once accepted, still completes).
 */
export async function callDeploymentService<H extends CalledHandler>(
  deps: ApiDeps,
  projectId: string,
  handler: H,
  request: Parameters<DeploymentClient[H]>[0],
  signal: AbortSignal,
): Promise<SwitchResult> {
  const client = deps.restate.objectClient<DeploymentServiceApi>({ name: deploymentServiceName }, projectId);
  try {
    // Both handlers take their request and answer a SwitchResult; the cast only joins the two signatures.
    const call = client[handler] as (req: typeof request, opts: clients.Opts<typeof request, SwitchResult>) => PromiseLike<SwitchResult>;
    return await call(request, clients.rpc.opts({ signal }));
  } catch (err) {
    throw connectErrorFromRestate(err, `${handler} of project ${projectId}`);
  }
}
