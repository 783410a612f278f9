import { loadConfig, loggingConfigSchema } from "@ctrl/config";
import { databaseConfigSchema } from "@ctrl/db";
import { parsePortRange } from "@ctrl/proxy";
import { z } from "zod";

/**
 * Every setting of a sentinel, read once from the environment in main.ts. The agent sets `PORT`,
 * `CTRL_ENVIRONMENT_ID`, `CTRL_REGION` and `CTRL_SENTINEL_ID` (packages/artifact `instanceEnv`);
 * the rest has defaults for the local stack.
 */
export const sentinelConfigSchema = z.object({
  /** Port to listen on (the agent assigns it). */
  PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Host to bind. */
  HOST: z.string().default("127.0.0.1"),
  /** The environment whose instances this sentinel fronts. */
  CTRL_ENVIRONMENT_ID: z.string().min(1, "CTRL_ENVIRONMENT_ID is required: the environment this sentinel serves"),
  /** The region it runs in: only instances of this region are used. */
  CTRL_REGION: z.string().min(1).default("local"),
  /** The image this sentinel runs (the agent sets it), reported on /_ctrl/health so anyone can check a rollout. */
  CTRL_IMAGE: z.string().default(""),
  /** This sentinel's id (for logs and health). */
  CTRL_SENTINEL_ID: z.string().default("unknown"),
  /** DATABASE_URL: the environment's instances are read from it (read-only use). */
  ...databaseConfigSchema.shape,
  /**
   * Ports an instance address may have: the agent's KRANE_PORT_RANGE (krane passes it). Any other
   * address is dropped with a warning and never dialed, so a sentinel never forwards to a
   * control-plane port whatever a database row says.
   */
  SENTINEL_UPSTREAM_PORT_RANGE: z
    .string()
    .default("20000-29999")
    .transform((s, ctx) => {
      try {
        return parsePortRange(s);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** Instance-list change check interval (ms). */
  SENTINEL_POLL_INTERVAL_MS: z.coerce.number().int().min(20).max(5_000).default(150),
  /** Unconditional reload interval (ms). */
  SENTINEL_FULL_RELOAD_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** Largest request body (bytes); larger ones get 413. */
  SENTINEL_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(100 * 1024 * 1024),
  /** Time to connect to an instance (ms). */
  SENTINEL_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(1).default(1_000),
  /** Time for an instance to send response headers (ms); then 504. */
  SENTINEL_UPSTREAM_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1).default(60_000),
  /** Longest pause inside an instance's response body (ms). */
  SENTINEL_UPSTREAM_BODY_TIMEOUT_MS: z.coerce.number().int().min(0).default(120_000),
  /** Instances tried per request when connecting fails. */
  SENTINEL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  /** How long an instance that refused a connection is skipped (ms). */
  SENTINEL_FAILURE_COOLDOWN_MS: z.coerce.number().int().min(0).default(2_000),
  ...loggingConfigSchema.shape,
});

/** Parsed sentinel configuration. */
export type SentinelConfig = z.infer<typeof sentinelConfigSchema>;

/** Parses the environment; throws an error naming each bad variable and how to fix it. */
export function loadSentinelConfig(env: NodeJS.ProcessEnv = process.env): SentinelConfig {
  return loadConfig(sentinelConfigSchema, env, { service: "sentinel", schemaFile: "apps/sentinel/src/config.ts" });
}
