import type { z } from "zod";
import { workerConfigSchema } from "./config.js";

/**
 * Tunables of the deploy path, derived from the config in main.ts. Tests pass a partial object in
 * `deps.settings` (e.g. a 2 s readiness timeout); missing fields take the defaults below.
 */
export interface WorkerSettings {
  /** Default regions of a deploy (an environment's `regions` JSON overrides them). */
  regions: string[];
  /** Apex domain of generated hostnames. */
  apexDomain: string;
  /** Upper bound of the readiness wait. */
  readinessTimeoutMs: number;
  /** Longest durable sleep between two readiness checks (they start at 100 ms and back off). */
  readinessPollMs: number;
  openapiPath: string;
  openapiTimeoutMs: number;
  openapiMaxBytes: number;
  /** Sentinel image; undefined means none configured and the sentinel step is skipped. */
  sentinelImage?: string;
  /** How long `SentinelService.deploy` waits for the agent's healthy report before failing with `health_timeout`. */
  sentinelDeployTimeoutMs: number;
  /** Attempts of one fleet-rollout webhook delivery before it is given up (never blocks the rollout). */
  webhookMaxAttempts: number;
  /** Time limit of one webhook POST. */
  webhookTimeoutMs: number;
  /** How often a paused or blocked deployment rollout re-reads its control state. */
  rolloutControlPollMs: number;
  /**
   * How long after a rollout is `stable` the previous deployment's instances are stopped; null keeps
   * them running (what a deploy always did, so an emergency rollback needs no start).
   */
  previousScaleDownDelayMs: number | null;
  /** Halt pages (services/supervisor-service/paging.ts); empty strings disable a channel. */
  haltPaging: { pagerDutyUrl: string; pagerDutyRoutingKey: string; slackWebhookUrl: string };
}

/** The variables the settings come from; their defaults (config.ts) are the settings' defaults. */
const settingsConfigSchema = workerConfigSchema.pick({
  REGIONS: true,
  APEX_DOMAIN: true,
  READINESS_TIMEOUT_MS: true,
  READINESS_POLL_MS: true,
  OPENAPI_PATH: true,
  OPENAPI_TIMEOUT_MS: true,
  OPENAPI_MAX_BYTES: true,
  SENTINEL_IMAGE: true,
  SENTINEL_DEPLOY_TIMEOUT_MS: true,
  ROLLOUT_WEBHOOK_MAX_ATTEMPTS: true,
  ROLLOUT_WEBHOOK_TIMEOUT_MS: true,
  ROLLOUT_CONTROL_POLL_MS: true,
  ROLLOUT_PREVIOUS_SCALE_DOWN_DELAY_MS: true,
  HALT_PAGERDUTY_URL: true,
  HALT_PAGERDUTY_ROUTING_KEY: true,
  HALT_SLACK_WEBHOOK_URL: true,
});

/** The settings main.ts derives from the parsed config. */
export function settingsFromConfig(config: z.output<typeof settingsConfigSchema>): WorkerSettings {
  return {
    regions: config.REGIONS,
    apexDomain: config.APEX_DOMAIN,
    readinessTimeoutMs: config.READINESS_TIMEOUT_MS,
    readinessPollMs: config.READINESS_POLL_MS,
    openapiPath: config.OPENAPI_PATH,
    openapiTimeoutMs: config.OPENAPI_TIMEOUT_MS,
    openapiMaxBytes: config.OPENAPI_MAX_BYTES,
    sentinelImage: config.SENTINEL_IMAGE || undefined,
    sentinelDeployTimeoutMs: config.SENTINEL_DEPLOY_TIMEOUT_MS,
    webhookMaxAttempts: config.ROLLOUT_WEBHOOK_MAX_ATTEMPTS,
    webhookTimeoutMs: config.ROLLOUT_WEBHOOK_TIMEOUT_MS,
    rolloutControlPollMs: config.ROLLOUT_CONTROL_POLL_MS,
    previousScaleDownDelayMs: config.ROLLOUT_PREVIOUS_SCALE_DOWN_DELAY_MS ?? null,
    haltPaging: {
      pagerDutyUrl: config.HALT_PAGERDUTY_URL,
      pagerDutyRoutingKey: config.HALT_PAGERDUTY_ROUTING_KEY,
      slackWebhookUrl: config.HALT_SLACK_WEBHOOK_URL,
    },
  };
}

/** The settings of an empty environment: config.ts's defaults, written only there. */
export const defaultWorkerSettings: WorkerSettings = settingsFromConfig(settingsConfigSchema.parse({}));

/** Fills the gaps of a partial settings object with the defaults. */
export function resolveSettings(partial: Partial<WorkerSettings> | undefined): WorkerSettings {
  return { ...defaultWorkerSettings, ...partial };
}
