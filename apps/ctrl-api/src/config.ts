import { loadConfig, loggingConfigSchema } from "@ctrl/config";
import { databaseConfigSchema } from "@ctrl/db";
import { s3ConfigSchema } from "@ctrl/s3";
import { parseRegionKeys } from "@ctrl/vault";
import { z } from "zod";

/** A required secret: no default, at least 32 characters; the message names the variable and the fix. */
const secret = (name: string, what: string) =>
  z
    .string({ error: `${name} is required (${what}): generate one, e.g. \`openssl rand -base64 32\`` })
    .min(32, `${name} must be at least 32 characters (${what}): generate one, e.g. \`openssl rand -base64 32\``);

/** Every setting of ctrl-api, read once from the environment in main.ts. */
export const apiConfigSchema = z.object({
  ...databaseConfigSchema.shape,
  /** Host both listeners bind to. */
  HOST: z.string().default("127.0.0.1"),
  /** HTTP/1.1 port: Connect (JSON/binary), gRPC-Web, the public `/v2` API and `/health`. */
  PORT: z.coerce.number().int().min(0).max(65535).default(7070),
  /** HTTP/2 cleartext port: gRPC (and Connect over h2c). 0 picks a free port; -1 disables. */
  GRPC_PORT: z.coerce.number().int().min(-1).max(65535).default(7071),
  /**
   * Bearer token of operators (and the CLI/tools acting for them): Connect services across every
   * workspace (GetDeployment, Rollback, Promote …), never ClusterService. No default: generate one
   * (`openssl rand -base64 32`); `pnpm dev` writes one into <dataDir>/secrets.env.
   */
  CTRL_OPERATOR_TOKEN: secret("CTRL_OPERATOR_TOKEN", "the operators' bearer token"),
  /**
   * Bearer token of frontline (its own CTRL_FRONTLINE_TOKEN): AcmeService lookups only. No default.
   * Agents do not use a shared token: each has a credential of its own (`ctrl-db agent-credential create`).
   */
  CTRL_FRONTLINE_TOKEN: secret("CTRL_FRONTLINE_TOKEN", "frontline's bearer token"),
  /** Removed: the one shared token was split into the three credentials above. Refused so an old config fails loudly. */
  CTRL_API_TOKEN: z
    .never({
      error:
        "CTRL_API_TOKEN is no longer used: set CTRL_OPERATOR_TOKEN (operators) and CTRL_FRONTLINE_TOKEN (frontline), and give each agent its own credential (ctrl-db agent-credential create)",
    })
    .optional(),
  /** Restate ingress, where durable work is started. */
  RESTATE_INGRESS_URL: z.string().url().default("http://127.0.0.1:8080"),
  ...s3ConfigSchema.shape,
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
   * Vault master keys (`k1:<base64 of 32 bytes>[,k0:…]`, the worker's syntax and keys): decrypt the
   * stored environment variables. Never given to an agent. Unset: deployments whose environment has
   * variables fail with env_decrypt_failed.
   */
  VAULT_MASTER_KEYS: z.string().min(1).optional(),
  /**
   * Per-region agent keys, `<region>=k1:<base64>[,k0:…][;<region>=…]`: a region's ApplyDeployment
   * environment is encrypted with its key, and that region's agents hold only it
   * (KRANE_VAULT_MASTER_KEYS). A region without a key: its deployments with variables fail with
   * env_decrypt_failed.
   */
  VAULT_REGION_KEYS: z
    .string()
    .min(1)
    .optional()
    .superRefine((v, ctx) => {
      if (v === undefined) return;
      try {
        parseRegionKeys(v);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
      }
    }),
  /** Reported by Liveness. */
  INSTANCE_ID: z.string().default(`api-${process.pid}`),
  ...loggingConfigSchema.shape,
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;

/** Parses the environment; throws an error naming each bad variable and how to fix it. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return loadConfig(apiConfigSchema, env, { service: "ctrl-api", schemaFile: "apps/ctrl-api/src/config.ts" });
}
