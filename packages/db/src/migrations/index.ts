import type { Migration } from "kysely";
import * as m0001 from "./0001_init.js";
import * as m0002deploy from "./0002_deploy.js";
import * as m0006build from "./0006_build.js";
import * as m0007agentCredentials from "./0007_agent_credentials.js";
import * as m0008domainVerification from "./0008_domain_verification.js";
import * as m0009sentinelRollouts from "./0009_sentinel_rollouts.js";
import * as m0010sentinelRolloutWebhooks from "./0010_sentinel_rollout_webhooks.js";
import * as m0011deploymentRollouts from "./0011_deployment_rollouts.js";
import * as m0012haltSupervision from "./0012_halt_supervision.js";
import * as m0013environmentSettings from "./0013_environment_settings.js";

/** Every migration, in order. Frozen: append new ones, never edit a landed one. */
export const migrations: Record<string, Migration> = {
  "0001_init": m0001,
  "0002_deploy": m0002deploy,
  "0006_build": m0006build,
  "0007_agent_credentials": m0007agentCredentials,
  "0008_domain_verification": m0008domainVerification,
  "0009_sentinel_rollouts": m0009sentinelRollouts,
  "0010_sentinel_rollout_webhooks": m0010sentinelRolloutWebhooks,
  "0011_deployment_rollouts": m0011deploymentRollouts,
  "0012_halt_supervision": m0012haltSupervision,
  "0013_environment_settings": m0013environmentSettings,
};
