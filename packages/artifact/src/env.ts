/**
 * The environment every instance gets from the agent: the one place these names are defined.
 * Apps read them as plain env vars (examples/hello does, without depending on this package).
 */
export const instanceEnv = {
  /** The port to listen on (the process driver assigns it from its range). */
  port: "PORT",
  /** The deployment (or sentinel) this instance belongs to. */
  deploymentId: "CTRL_DEPLOYMENT_ID",
  /** This instance's name, unique within the region (its `k8s_name` in reports). */
  instanceId: "CTRL_INSTANCE_ID",
  workspaceId: "CTRL_WORKSPACE_ID",
  projectId: "CTRL_PROJECT_ID",
  environmentId: "CTRL_ENVIRONMENT_ID",
  /** The image (artifact reference) the instance was started from. */
  image: "CTRL_IMAGE",
  /** The agent's region. */
  region: "CTRL_REGION",
  /** Set for sentinel instances only: the sentinel id. */
  sentinelId: "CTRL_SENTINEL_ID",
  /**
   * A file the app may write a short halt intent to (first line, ≤ 64 chars) before exiting; with
   * it, or with exit code 70/71/72, the instance is not restarted and the intent is reported.
   */
  haltFile: "CTRL_HALT_FILE",
  /** Opaque id of the agent (its data directory) that started the instance; lets it find orphans. */
  agent: "CTRL_AGENT",
} as const;
