import { loadConfig, loggingConfigSchema } from "@ctrl/config";
import { s3ConfigSchema } from "@ctrl/s3";
import { z } from "zod";

const portRange = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, "must look like 20000-29999")
  .transform((s) => {
    const [low, high] = s.split("-").map(Number) as [number, number];
    return { low, high };
  })
  .refine((r) => r.low >= 1 && r.high <= 65535 && r.low <= r.high, "must be an ascending range within 1-65535");

const jsonEnv = z.string().transform((s, ctx) => {
  try {
    const v = JSON.parse(s) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string"))
      return v as Record<string, string>;
  } catch {
    /* reported below */
  }
  ctx.addIssue({ code: "custom", message: 'must be a JSON object of strings, e.g. {"DATABASE_URL":"mysql://…"}' });
  return z.NEVER;
});

/** Every setting of the krane agent, read once from the environment in main.ts. */
export const kraneConfigSchema = z.object({
  /** ctrl-api base URL (HTTP/1.1 listener: Connect protocol, server streams included). */
  KRANE_CONTROL_PLANE_URL: z.string().url().default("http://127.0.0.1:7070"),
  /**
   * This agent's own credential for ClusterService (also guards its /status and /logs): minted with
   * `ctrl-db agent-credential create --region <KRANE_REGION> --advertise-host <KRANE_ADVERTISE_HOST>
   * --ports <KRANE_PORT_RANGE>`. It is bound to one region, host and port range. No default.
   */
  KRANE_TOKEN: z
    .string({ error: "KRANE_TOKEN is required: this agent's credential, from `ctrl-db agent-credential create --region <KRANE_REGION>`" })
    .min(
      32,
      "KRANE_TOKEN must be this agent's credential (at least 32 characters), from `ctrl-db agent-credential create --region <KRANE_REGION>`",
    ),
  /** The region this agent runs; must be its credential's region (ctrl-api refuses any other). */
  KRANE_REGION: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 characters [A-Za-z0-9._-]")
    .default("local"),
  /** How instances run. `process` (local child processes) is the only driver so far; `kubernetes` will implement the same Driver interface. */
  KRANE_DRIVER: z.enum(["process"]).default("process"),
  /** Cursors, desired specs, instance records, unpacked artifacts and logs. Keep it across restarts: that is how instances are adopted. */
  KRANE_DATA_DIR: z.string().min(1).default(".data/krane"),
  /** Ports handed to instances as PORT; must lie inside the credential's port range (reports outside it are refused). */
  KRANE_PORT_RANGE: portRange.default({ low: 20000, high: 29999 }),
  /** Host put in reported instance addresses (what frontline/sentinels dial); must be one of the credential's advertise hosts. */
  KRANE_ADVERTISE_HOST: z.string().min(1).default("127.0.0.1"),
  /** How often every workload's desired state is re-fetched (drift repair and GC), in ms. */
  KRANE_RESYNC_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),
  /** The agent's own HTTP endpoint (`GET /health`, `GET /status`, `GET /logs/<instance>?lines=N`): host. */
  KRANE_HTTP_HOST: z.string().default("127.0.0.1"),
  /** …and port; 0 picks a free one, -1 disables it. */
  KRANE_HTTP_PORT: z.coerce.number().int().min(-1).max(65535).default(7090),
  /** First restart delay after an instance exits; doubles per consecutive failure. */
  KRANE_RESTART_BACKOFF_MS: z.coerce.number().int().min(10).default(1_000),
  /** Cap of the restart delay. */
  KRANE_RESTART_BACKOFF_MAX_MS: z.coerce.number().int().min(10).default(30_000),
  /** Consecutive failed starts tolerated before an instance stays `failed` (the deploy then fails with start_failed). */
  KRANE_MAX_RESTARTS: z.coerce.number().int().min(0).default(5),
  /** A run at least this long resets the failure count. */
  KRANE_STABLE_AFTER_MS: z.coerce.number().int().min(0).default(30_000),
  /** SIGTERM → SIGKILL grace when stopping an instance. */
  KRANE_STOP_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  /** Health poll interval while an instance is pending. */
  KRANE_HEALTH_INTERVAL_MS: z.coerce.number().int().min(10).default(250),
  /** Instance log size that triggers rotation, and how many rotated files to keep. */
  KRANE_LOG_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(10 * 1024 * 1024),
  KRANE_LOG_KEEP: z.coerce.number().int().min(1).max(20).default(3),
  /** How often new instance output is pushed to ctrl-api (what `ctrl logs --runtime` reads), in ms. */
  KRANE_LOG_SHIP_INTERVAL_MS: z.coerce.number().int().min(50).default(1_000),
  /**
   * Stop every instance when the agent stops (SIGTERM/SIGINT), keeping the desired specs so the
   * next start brings them back. Off in production (instances outlive agent restarts); on for the
   * local stack, where Ctrl-C should leave nothing running.
   */
  KRANE_STOP_INSTANCES_ON_EXIT: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  /**
   * How instances are isolated. `bwrap` (default): each runs in a bubblewrap sandbox (own pid,
   * mount, user and network namespaces, an unprivileged uid, read-only system directories); the
   * agent refuses to start when bwrap is missing (`apt-get install -y bubblewrap`). `none`: tenant
   * code runs as the agent's user with its view of the machine — trusted single-user laptops only,
   * warned at every start.
   */
  KRANE_SANDBOX: z.enum(["bwrap", "none"]).default("bwrap"),
  /** Per-instance sandbox limits: processes+threads of its uid (RLIMIT_NPROC), largest file (RLIMIT_FSIZE), size of its private /tmp. */
  KRANE_SANDBOX_MAX_PROCESSES: z.coerce.number().int().min(16).default(512),
  KRANE_SANDBOX_MAX_FILE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024 * 1024),
  KRANE_SANDBOX_TMP_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .default(64 * 1024 * 1024),
  /** Extra environment for sentinel instances, as a JSON object (e.g. how they reach the control plane). */
  KRANE_SENTINEL_ENV: jsonEnv.default({}),
  /**
   * This region's agent key (`k1:<base64 of 32 bytes>[,k0:…]`): the value of this region's entry in
   * ctrl-api's VAULT_REGION_KEYS (never ctrl-api's VAULT_MASTER_KEYS). Decrypts each deployment's
   * environment variables. Unset: a deployment with variables fails with env_decrypt_failed (one
   * without variables runs as before).
   */
  KRANE_VAULT_MASTER_KEYS: z.string().min(1).optional(),
  /** S3 where artifacts live, read-only (the bucket comes from each reference; S3_BUCKET only when one names none). */
  ...s3ConfigSchema.omit({ S3_EXTERNAL_ENDPOINT: true }).shape,
  ...loggingConfigSchema.shape,
});

export type KraneConfig = z.infer<typeof kraneConfigSchema>;

/** Parses the environment; throws an error naming each bad variable and how to fix it. */
export function loadKraneConfig(env: NodeJS.ProcessEnv = process.env): KraneConfig {
  return loadConfig(kraneConfigSchema, env, { service: "krane", schemaFile: "apps/krane/src/config.ts" });
}
