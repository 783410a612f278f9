import { chooseVersion, type TrafficSplit } from "@ctrl/rollout";

/** A region's split of one environment, as the route table loads it from `region_traffic_splits`. */
export interface RegionSplit extends TrafficSplit {
  environmentId: string;
}

/** What a routed hostname needs for the split decision. */
export interface SplitRoute {
  deploymentId: string;
  environmentId: string;
  /** `none` (or absent) for a deployment's own hostname, never split; `branch`/`environment`/`live` are shared. */
  sticky?: string;
}

/** The deployment a request goes to and the cookie to set when it was chosen afresh. */
export interface SplitDecision {
  deploymentId: string;
  setCookie: string | undefined;
}

/**
 * Applies this region's rollout split to a routed request. Only a shared hostname whose route still
 * points at the split's stable deployment is split (a deployment's own hostname always serves that
 * deployment; a route already moved on is not the split's business). A canary with no running
 * instance here serves nobody: the request stays on stable, and no cookie pins it.
 */
export function applySplit(
  route: SplitRoute,
  splits: ReadonlyMap<string, RegionSplit>,
  hasInstances: (deploymentId: string) => boolean,
  cookieHeader: string | undefined,
  random: number,
): SplitDecision {
  const split = route.sticky === undefined || route.sticky === "none" ? undefined : splits.get(route.environmentId);
  if (!split || split.stableDeploymentId !== route.deploymentId || split.canaryWeight <= 0)
    return { deploymentId: route.deploymentId, setCookie: undefined };
  if (!hasInstances(split.canaryDeploymentId)) return { deploymentId: route.deploymentId, setCookie: undefined };
  return chooseVersion(split, cookieHeader, random);
}
