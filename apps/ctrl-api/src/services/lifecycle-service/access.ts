/**
 * Root-key permissions of DeploymentLifecycleService, as `project.<id|*>.<action>`:
 * `create_deployment` (Redeploy, like CreateDeployment), `cancel_deployment` (CancelDeployment),
 * `stop_deployment` (StopDeployment, StartDeployment) and `delete_deployment` (DeleteDeployment).
 */
export const lifecyclePermissions = {
  redeploy: "create_deployment",
  cancel: "cancel_deployment",
  stop: "stop_deployment",
  delete: "delete_deployment",
} as const;
