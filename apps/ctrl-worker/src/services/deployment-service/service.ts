import * as restate from "@restatedev/restate-sdk";
import { deploymentServiceName } from "../../contract.js";
import type { WorkerDeps } from "../../deps.js";
import { resolveSettings } from "../../settings.js";
import type { CutoverRequest, PromoteRequest, RollbackRequest, StopProjectResult, SwitchResult } from "./api.js";
import { cutover } from "./cutover.js";
import { promote } from "./promote.js";
import { rollback } from "./rollback.js";
import { stopProject } from "./stop-project.js";

/**
 * DeploymentService — virtual object, key = project id. Its exclusive handlers are short (a
 * precondition read and one RoutingService transaction), so an emergency rollback never queues
 * behind a long deploy: the deploy workflow only calls `cutover` at its very end.
 */
export function createDeploymentService(deps: WorkerDeps) {
  const settings = resolveSettings(deps.settings);
  return restate.object({
    name: deploymentServiceName,
    handlers: {
      /** Called by DeployWorkflow when a deployment is ready to take its routes. */
      cutover: async (ctx: restate.ObjectContext, req: CutoverRequest): Promise<SwitchResult> => cutover(ctx, deps.db, settings, req),
      /** Moves live/environment routes back to an earlier ready deployment and pins the project. */
      rollback: async (ctx: restate.ObjectContext, req: RollbackRequest): Promise<SwitchResult> => rollback(ctx, deps.db, req),
      /** Moves live/environment routes to a ready deployment and clears the pin. */
      promote: async (ctx: restate.ObjectContext, req: PromoteRequest): Promise<SwitchResult> => promote(ctx, deps.db, req),
      /** Stops every running deployment of the project and archives its sentinels (a forced project delete). */
      stopProject: async (ctx: restate.ObjectContext): Promise<StopProjectResult> => stopProject(ctx, deps.db),
    },
    // ctrl-api calls rollback/promote through the ingress; each handler checks that the deployments
    // it names belong to the keyed project, so a caller cannot reach across projects.
    options: { ingressPrivate: false },
  });
}
