import type { DomainSpec } from "../../domains.js";
import type { createRoutingService } from "./service.js";

/** Type-only contract of `RoutingService` (virtual object, key = project id). */
export type RoutingServiceApi = ReturnType<typeof createRoutingService>;

/** Service name on Restate. */
export { routingServiceName } from "../../contract.js";

/** Input of `assignRoutes`: point hostnames at a deployment, optionally making it live. */
export interface AssignRoutesRequest {
  workspaceId: string;
  environmentId: string;
  deploymentId: string;
  routes: DomainSpec[];
  /** Also set `projects.live_deployment_id` to the deployment (same transaction). */
  setLive: boolean;
}

/** Input of `switchLive`: move existing routes and the live pointer to a deployment. */
export interface SwitchLiveRequest {
  targetDeploymentId: string;
  /** `frontline_routes.id`s of the project to repoint. */
  routeIds: string[];
  /** New value of the rolled-back pin (true for rollback, false for promote). */
  isRolledBack: boolean;
}

/** Hostnames now pointing at the deployment, and the project's pointer afterwards. */
export interface RoutingResult {
  hostnames: string[];
  liveDeploymentId: string | null;
  isRolledBack: boolean;
}
