/**
 * Root-key permissions of DeploymentLifecycleService, as `project.<id|*>.<action>`:
 * `create_deployment` (Redeploy, like CreateDeployment) and `cancel_deployment` (CancelDeployment).
 */
export const lifecyclePermissions = {
  redeploy: "create_deployment",
  cancel: "cancel_deployment",
} as const;
