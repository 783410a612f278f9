import { loadConfig, loggingConfigSchema } from "@ctrl/config";
import { databaseConfigSchema } from "@ctrl/db";
import { parsePortRange } from "@ctrl/proxy";
import { z } from "zod";

/** Every setting of frontline, read once from the environment in main.ts. */
export const frontlineConfigSchema = z.object({
  /** DATABASE_URL: frontline only reads it. */
  ...databaseConfigSchema.shape,
  /** Host the listeners bind to. */
  HOST: z.string().default("127.0.0.1"),
  /**
   * Port of the ops listener serving `/metrics` (per-deployment requests, 5xx and latency, Prometheus
   * text; what rollout analysis reads) and `/_ctrl/health`; -1 disables, 0 picks a free port. It
   * binds FRONTLINE_METRICS_HOST, never the public listeners, so tenant hostnames cannot reach it.
   */
  FRONTLINE_METRICS_PORT: z.coerce.number().int().min(-1).max(65535).default(-1),
  /** Host the ops listener binds to (loopback unless a scraper elsewhere needs it). */
  FRONTLINE_METRICS_HOST: z.string().default("127.0.0.1"),
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
  FRONTLINE_HTTPS_REDIRECT: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
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
  FRONTLINE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(100 * 1024 * 1024),
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
  FRONTLINE_TRUST_FORWARDED: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  /**
   * Ports an upstream (instance or sentinel address) may have: the agents' KRANE_PORT_RANGE. Any
   * other address is treated as no upstream and logged, so frontline never forwards to a
   * control-plane port (ctrl-api, Restate, MySQL …) whatever a database row says.
   */
  FRONTLINE_UPSTREAM_PORT_RANGE: z
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
  /** ctrl-api's HTTP/1.1 URL, for ACME HTTP-01 lookups (`AcmeService.VerifyCertificate`). Empty disables them. */
  CTRL_API_URL: z.string().default("http://127.0.0.1:7070"),
  /**
   * Frontline's own read-only credential for ctrl-api (ctrl-api's CTRL_FRONTLINE_TOKEN): AcmeService
   * lookups only. Required while CTRL_API_URL is set; no default.
   */
  CTRL_FRONTLINE_TOKEN: z
    .string()
    .min(32, "CTRL_FRONTLINE_TOKEN must be at least 32 characters (ctrl-api's CTRL_FRONTLINE_TOKEN)")
    .optional(),
  /** Removed: frontline has its own credential now. Refused so an old config fails loudly. */
  CTRL_API_TOKEN: z
    .never({
      error: "CTRL_API_TOKEN is no longer used: set CTRL_FRONTLINE_TOKEN (frontline's own credential, ctrl-api's CTRL_FRONTLINE_TOKEN)",
    })
    .optional(),
  /** Deadline of one ACME challenge lookup (ms). */
  FRONTLINE_ACME_TIMEOUT_MS: z.coerce.number().int().min(1).default(5_000),
  ...loggingConfigSchema.shape,
});

/** Parsed frontline configuration. */
export type FrontlineConfig = z.infer<typeof frontlineConfigSchema>;

/** Cross-field rules: the ctrl-api token is required while lookups are on, the vault key while HTTPS is. */
const frontlineConfig = frontlineConfigSchema.superRefine((c, ctx) => {
  if (c.CTRL_API_URL && !c.CTRL_FRONTLINE_TOKEN) {
    ctx.addIssue({
      code: "custom",
      path: ["CTRL_FRONTLINE_TOKEN"],
      message:
        "CTRL_FRONTLINE_TOKEN is required while CTRL_API_URL is set (ctrl-api's CTRL_FRONTLINE_TOKEN; `pnpm dev` writes one into <dataDir>/secrets.env)",
    });
  }
  if (c.HTTPS_PORT >= 0 && !c.VAULT_MASTER_KEYS) {
    ctx.addIssue({
      code: "custom",
      path: ["VAULT_MASTER_KEYS"],
      message: "VAULT_MASTER_KEYS is required while HTTPS_PORT is enabled (the worker's keys, to decrypt certificate private keys)",
    });
  }
});

/** Parses the environment; throws an error naming each bad variable and how to fix it. */
export function loadFrontlineConfig(env: NodeJS.ProcessEnv = process.env): FrontlineConfig {
  return loadConfig(frontlineConfig, env, { service: "frontline", schemaFile: "apps/frontline/src/config.ts" });
}
