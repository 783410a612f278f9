import * as restate from "@restatedev/restate-sdk";
import { routingServiceName } from "../../contract.js";
import type { WorkerDeps } from "../../deps.js";
import type { AssignRoutesRequest, RoutingResult, SwitchLiveRequest } from "./api.js";
import { assignRoutes } from "./assign-routes.js";
import { switchLive } from "./switch-live.js";

/**
 * RoutingService — virtual object, key = project id. The only writer of a project's routes and
 * live pointer; each handler is one MySQL transaction. Called by DeploymentService, which holds
 * the preconditions.
 */
export function createRoutingService(deps: WorkerDeps) {
  return restate.object({
    name: routingServiceName,
    handlers: {
      /** Points hostnames at a deployment (and optionally makes it live). */
      assignRoutes: async (ctx: restate.ObjectContext, req: AssignRoutesRequest): Promise<RoutingResult> => assignRoutes(ctx, deps.db, req),
      /** Moves routes, the live pointer and the pin to a deployment at once. */
      switchLive: async (ctx: restate.ObjectContext, req: SwitchLiveRequest): Promise<RoutingResult> => switchLive(ctx, deps.db, req),
    },
  });
}
