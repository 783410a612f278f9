import type { DeploymentState, SentinelState } from "@ctrl/proto";
import type { Vault } from "@ctrl/vault";
import type { Logger } from "pino";
import type { Driver } from "../driver.js";
import { badName, deploymentWorkload, sentinelWorkload } from "./convert.js";

/** What applying a desired state needs. */
export interface ApplyDeps {
  driver: Driver;
  logger: Logger;
  /** Decrypts deployments' environment variables; without it a deployment with variables fails with env_decrypt_failed. */
  vault?: Vault;
}

/** Where a desired state came from (logged). */
export type ApplySource = "watch" | "resync";

/** Applies one deployment state (apply or delete) to the driver; a name the agent cannot use is logged and skipped. */
export async function applyDeploymentState(deps: ApplyDeps, state: DeploymentState, source: ApplySource = "watch"): Promise<void> {
  const { driver, logger } = deps;
  const s = state.state;
  if (s.case === "apply") {
    const problem = badName(s.value.k8sName);
    if (problem) return logger.error({ version: String(state.version), problem }, "ignoring a deployment the agent cannot name");
    logger.info(
      { deploymentId: s.value.deploymentId, replicas: s.value.replicas, version: String(state.version), source },
      "apply deployment",
    );
    const deploymentId = s.value.deploymentId;
    // Names only: values are never logged.
    const workload = deploymentWorkload(s.value, deps.vault, (dropped) =>
      logger.warn({ deploymentId, dropped }, "ignoring reserved environment variable names (the agent sets them)"),
    );
    if (workload.envError) logger.error({ deploymentId, reason: workload.envError }, "deployment environment variables unusable");
    await driver.apply(workload);
  } else if (s.case === "delete") {
    if (badName(s.value.k8sName)) return;
    logger.info({ deploymentId: s.value.k8sName, version: String(state.version), source }, "delete deployment");
    // The driver reports it gone once its instances have stopped.
    await driver.delete("deployment", s.value.k8sName);
  }
}

/** Applies one sentinel state (apply or delete) to the driver; a name the agent cannot use is logged and skipped. */
export async function applySentinelState(deps: ApplyDeps, state: SentinelState, source: ApplySource = "watch"): Promise<void> {
  const { driver, logger } = deps;
  const s = state.state;
  if (s.case === "apply") {
    const problem = badName(s.value.k8sName);
    if (problem) return logger.error({ version: String(state.version), problem }, "ignoring a sentinel the agent cannot name");
    logger.info({ sentinelId: s.value.sentinelId, replicas: s.value.replicas, version: String(state.version), source }, "apply sentinel");
    await driver.apply(sentinelWorkload(s.value));
  } else if (s.case === "delete") {
    if (badName(s.value.k8sName)) return;
    logger.info({ sentinel: s.value.k8sName, version: String(state.version), source }, "delete sentinel");
    await driver.delete("sentinel", s.value.k8sName);
  }
}
