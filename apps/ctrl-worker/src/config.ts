import { z } from "zod";

/** Every setting of ctrl-worker, read once from the environment in main.ts. */
export const workerConfigSchema = z.object({
  /** MySQL/MariaDB URL of the control plane's database. */
  DATABASE_URL: z.string().url().default("mysql://root@127.0.0.1:3306/ctrl"),
  /** Host the Restate endpoint binds to. */
  WORKER_HOST: z.string().default("127.0.0.1"),
  /** Port of the Restate endpoint (HTTP/2 cleartext). */
  WORKER_PORT: z.coerce.number().int().min(0).max(65535).default(9080),
  /** URL restate-server uses to reach this endpoint; defaults to http://WORKER_HOST:WORKER_PORT. */
  WORKER_ADVERTISED_URL: z.string().url().optional(),
  /** Port of the HTTP/1.1 health endpoint (`GET /health`); 0 picks a free one. */
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(9081),
  /** Restate admin API, where the worker registers itself on start. */
  RESTATE_ADMIN_URL: z.string().url().default("http://127.0.0.1:9070"),
  /** Skip self-registration (when a deploy pipeline registers the endpoint instead). */
  RESTATE_REGISTER: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
  /** Internal S3 endpoint (what servers reach). */
  S3_ENDPOINT: z.string().url().default("http://127.0.0.1:9000"),
  /** External S3 endpoint (what builders and laptops reach); presigned URLs use it when set. */
  S3_EXTERNAL_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().default("us-east-1"),
  S3_BUCKET: z.string().min(3).default("ctrl-builds"),
  S3_ACCESS_KEY_ID: z.string().default("S3RVER"),
  S3_SECRET_ACCESS_KEY: z.string().default("S3RVER"),
  /** pino log level. */
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

/** Parses the environment; throws an error naming each bad variable and how to fix it. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const parsed = workerConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`ctrl-worker: invalid configuration:\n${lines.join("\n")}\nSet the variables above (see apps/ctrl-worker/src/config.ts) and start again.`);
  }
  return parsed.data;
}
