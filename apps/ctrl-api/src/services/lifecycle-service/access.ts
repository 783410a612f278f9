/**
 * Root-key permissions of DeploymentLifecycleService, as `project.<id|*>.<action>`:
 * `create_deployment` (Redeploy, like CreateDeployment), `cancel_deployment` (CancelDeployment) and
 * `stop_deployment` (StopDeployment, StartDeployment).
 */
export const lifecyclePermissions = {
  redeploy: "create_deployment",
  cancel: "cancel_deployment",
  stop: "stop_deployment",
} as const;
