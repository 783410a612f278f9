import { z } from "zod";

/** Every setting of frontline, read once from the environment in main.ts. */
export const frontlineConfigSchema = z.object({
  /** MySQL/MariaDB URL of the control plane's database; frontline only reads it. */
  DATABASE_URL: z.string().url().default("mysql://root@127.0.0.1:3306/ctrl"),
  /** Host the listeners bind to. */
  HOST: z.string().default("127.0.0.1"),
  /** Plain-HTTP port (also serves ACME HTTP-01 challenges). 0 picks a free port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  /** HTTPS port, used once a certificate store is wired in (issue 7); -1 disables. */
  HTTPS_PORT: z.coerce.number().int().min(-1).max(65535).default(-1),
  /**
   * Vault master keys (`k2:<base64>,k1:<base64>`, the worker's VAULT_MASTER_KEYS) to decrypt
   * certificate private keys; required when HTTPS_PORT is enabled.
   */
  VAULT_MASTER_KEYS: z.string().optional(),
  /** How often new and renewed certificates are looked for (ms); they are served without a restart. */
  FRONTLINE_CERT_POLL_MS: z.coerce.number().int().min(50).default(2_000),
  /** Redirect plain HTTP to HTTPS for hosts that have a certificate (never the ACME challenge path). */
  FRONTLINE_HTTPS_REDIRECT: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
  /** Public HTTPS port written into redirects (defaults to HTTPS_PORT; 443 behind a port-forwarding LB). */
  FRONTLINE_PUBLIC_HTTPS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** The region this frontline serves: only instances and sentinels of this region are routed to. */
  FRONTLINE_REGION: z.string().min(1).default("local"),
  /**
   * `sentinel`: always through the environment's sentinel (503 without a healthy one);
   * `instances`: straight to the deployment's running instances; `auto`: the sentinel when healthy,
   * else the instances.
   */
  FRONTLINE_UPSTREAM: z.enum(["sentinel", "instances", "auto"]).default("auto"),
  /** Route-table change check interval (ms): route changes are served within about this plus one reload. */
  FRONTLINE_POLL_INTERVAL_MS: z.coerce.number().int().min(20).max(5_000).default(150),
  /** Interval (ms) of the whole-route-table checksum that proves the incremental route loads complete. */
  FRONTLINE_ROUTE_VERIFY_MS: z.coerce.number().int().min(100).default(5_000),
  /** Unconditional route-table reload interval (ms), a safety net under the checksum. */
  FRONTLINE_FULL_RELOAD_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** Largest request body accepted (bytes); larger ones get 413. */
  FRONTLINE_MAX_BODY_BYTES: z.coerce.number().int().min(0).default(100 * 1024 * 1024),
  /** Time to connect to an upstream (ms). */
  FRONTLINE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(1).default(2_000),
  /** Time for an upstream to send response headers (ms); then 504. */
  FRONTLINE_UPSTREAM_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1).default(60_000),
  /** Longest pause inside an upstream response body (ms); then the response is cut. */
  FRONTLINE_UPSTREAM_BODY_TIMEOUT_MS: z.coerce.number().int().min(0).default(120_000),
  /** Time a client has to send its request headers (ms). */
  FRONTLINE_CLIENT_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1).default(30_000),
  /** Time a client has to send its whole request (ms); 0 disables (long uploads). */
  FRONTLINE_CLIENT_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(0).default(300_000),
  /** Idle keep-alive time of client connections (ms). */
  FRONTLINE_CLIENT_KEEP_ALIVE_MS: z.coerce.number().int().min(0).default(65_000),
  /** Upstreams tried per request when connecting fails. */
  FRONTLINE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  /** How long a request for a just-created route waits for a fresher route table (ms). */
  FRONTLINE_MISS_WAIT_MS: z.coerce.number().int().min(0).max(10_000).default(500),
  /** Trust incoming X-Forwarded-* headers (only behind a trusted load balancer). */
  FRONTLINE_TRUST_FORWARDED: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  /** ctrl-api's HTTP/1.1 URL, for ACME HTTP-01 lookups (`AcmeService.VerifyCertificate`). Empty disables them. */
  CTRL_API_URL: z.string().default("http://127.0.0.1:7070"),
  /** Bearer token for ctrl-api (its `CTRL_API_TOKEN`). */
  CTRL_API_TOKEN: z.string().min(16, "CTRL_API_TOKEN must be at least 16 characters").default("local-dev-token-change-me"),
  /** Deadline of one ACME challenge lookup (ms). */
  FRONTLINE_ACME_TIMEOUT_MS: z.coerce.number().int().min(1).default(5_000),
  /** pino log level (`debug` logs every request). */
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

/** Parsed frontline configuration. */
export type FrontlineConfig = z.infer<typeof frontlineConfigSchema>;

/** Parses the environment; throws an error naming each bad variable and how to fix it. */
export function loadFrontlineConfig(env: NodeJS.ProcessEnv = process.env): FrontlineConfig {
  const parsed = frontlineConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`frontline: invalid configuration:\n${lines.join("\n")}\nSet the variables above (see apps/frontline/src/config.ts) and start again.`);
  }
  return parsed.data;
}
