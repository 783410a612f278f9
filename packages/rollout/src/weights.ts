/** The cookie that keeps a client on the version it first got while a canary splits traffic. */
export const stickyCookieName = "ctrl_version";

/** A split of one hostname's traffic between the stable and the canary deployment. */
export interface TrafficSplit {
  stableDeploymentId: string;
  canaryDeploymentId: string;
  /** Percent of new clients sent to the canary, 0..100. */
  canaryWeight: number;
}

export interface VersionChoice {
  deploymentId: string;
  /** Set when the client carried no valid choice: the edge sends `Set-Cookie` with it. */
  setCookie: string | undefined;
}

/**
 * Which deployment serves a request under a split. A client whose cookie names one of the two
 * deployments stays on it (so one user does not flip between versions); any other client is sent
 * to the canary with probability `canaryWeight` % (`random` in [0, 1)) and told to remember it.
 */
export function chooseVersion(split: TrafficSplit, cookieHeader: string | undefined, random: number): VersionChoice {
  const remembered = readCookie(cookieHeader, stickyCookieName);
  if (remembered === split.stableDeploymentId || remembered === split.canaryDeploymentId)
    return { deploymentId: remembered, setCookie: undefined };
  const deploymentId = random * 100 < split.canaryWeight ? split.canaryDeploymentId : split.stableDeploymentId;
  return { deploymentId, setCookie: `${stickyCookieName}=${deploymentId}; Path=/; HttpOnly; SameSite=Lax` };
}

/** The value of cookie `name` in a `Cookie` header, if present. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
