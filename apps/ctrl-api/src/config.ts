import { z } from "zod";

/** Every setting of ctrl-api, read once from the environment in main.ts. */
export const apiConfigSchema = z.object({
  /** MySQL/MariaDB URL of the control plane's database. */
  DATABASE_URL: z.string().url().default("mysql://root@127.0.0.1:3306/ctrl"),
  /** Host both listeners bind to. */
  HOST: z.string().default("127.0.0.1"),
  /** HTTP/1.1 port: Connect (JSON/binary), gRPC-Web, the public `/v2` API and `/health`. */
  PORT: z.coerce.number().int().min(0).max(65535).default(7070),
  /** HTTP/2 cleartext port: gRPC (and Connect over h2c). 0 picks a free port; -1 disables. */
  GRPC_PORT: z.coerce.number().int().min(-1).max(65535).default(7071),
  /**
   * Bearer token that agents (krane) and internal callers present on the Connect services.
   * Root keys from `api_keys` are accepted too, scoped to their workspace.
   */
  CTRL_API_TOKEN: z.string().min(16, "CTRL_API_TOKEN must be at least 16 characters").default("local-dev-token-change-me"),
  /** Restate ingress, where durable work is started. */
  RESTATE_INGRESS_URL: z.string().url().default("http://127.0.0.1:8080"),
  /** Internal S3 endpoint (what servers reach). */
  S3_ENDPOINT: z.string().url().default("http://127.0.0.1:9000"),
  /** External S3 endpoint (what a laptop or builder reaches); presigned URLs are signed for it when set. */
  S3_EXTERNAL_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().default("us-east-1"),
  S3_BUCKET: z.string().min(3).default("ctrl-builds"),
  S3_ACCESS_KEY_ID: z.string().default("S3RVER"),
  S3_SECRET_ACCESS_KEY: z.string().default("S3RVER"),
  /**
   * How often the shared per-region poller behind ClusterService.WatchDeployments/WatchSentinels
   * reads new versions (ms). One query per region per tick, whatever the number of agents.
   */
  CLUSTER_WATCH_POLL_MS: z.coerce.number().int().min(5).max(10_000).default(50),
  /** How often each DeploymentService.WatchDeployment stream re-reads its deployment (ms). */
  DEPLOYMENT_WATCH_POLL_MS: z.coerce.number().int().min(20).max(10_000).default(200),
  /**
   * How often to resubmit the workflow of deployments still `pending` after PENDING_SWEEP_AFTER_MS
   * (ctrl-api died between insert and submit; the resubmit is idempotent). 0 turns it off.
   */
  PENDING_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  /** Age after which a `pending` deployment counts as stuck. */
  PENDING_SWEEP_AFTER_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** Platform apex of generated hostnames (same as the worker's); custom domains under it are refused. */
  APEX_DOMAIN: z.string().min(1).default("ctrl.localhost"),
  /**
   * Vault master keys (`k1:<base64 of 32 bytes>[,k0:…]`, the worker's syntax and keys): decrypts the
   * stored environment variables and encrypts them for agents (krane's KRANE_VAULT_MASTER_KEYS must
   * hold the same keys). Unset: deployments whose environment has variables fail with env_decrypt_failed.
   */
  VAULT_MASTER_KEYS: z.string().min(1).optional(),
  /** Reported by Liveness. */
  INSTANCE_ID: z.string().default(`api-${process.pid}`),
  /** pino log level. */
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;

/** Parses the environment; throws an error naming each bad variable and how to fix it. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const parsed = apiConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`ctrl-api: invalid configuration:\n${lines.join("\n")}\nSet the variables above (see apps/ctrl-api/src/config.ts) and start again.`);
  }
  return parsed.data;
}
