import { loadConfig, loggingConfigSchema } from "@ctrl/config";
import { databaseConfigSchema } from "@ctrl/db";
import { s3ConfigSchema } from "@ctrl/s3";
import { z } from "zod";

/** The explicit opt-out value of `RESTATE_IDENTITY_KEYS`: accept unsigned invocations (logged as a warning). */
export const acceptUnsignedInvocations = "insecure-accept-unsigned";

const identityKey = /^publickeyv1_[1-9A-HJ-NP-Za-km-z]{32,44}$/;
const identityKeysHelp =
  "set it to the request-identity public key(s) of restate-server (`publickeyv1_…`, comma list; the server signs with `request-identity-private-key-pem-file`, see docs/security.md), " +
  `or to "${acceptUnsignedInvocations}" to accept unsigned invocations (anyone who reaches the endpoint can then run any handler)`;

/** Every setting of ctrl-worker, read once from the environment in main.ts. */
export const workerConfigSchema = z.object({
  ...databaseConfigSchema.shape,
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
  /**
   * Request-identity public keys of the restate-server(s) allowed to invoke this endpoint
   * (`publickeyv1_…`, comma list; several while rotating). Requests without a valid signature get
   * 401. Required: `insecure-accept-unsigned` is the explicit, logged opt-out.
   */
  RESTATE_IDENTITY_KEYS: z
    .string({ error: `is required: ${identityKeysHelp}` })
    .transform((v) =>
      v
        .split(",")
        .map((k) => k.trim())
        .filter(Boolean),
    )
    .refine((keys) => keys.length > 0, `is empty: ${identityKeysHelp}`)
    .refine(
      (keys) => (keys.length === 1 && keys[0] === acceptUnsignedInvocations) || keys.every((k) => identityKey.test(k)),
      `must be publickeyv1_<base58> keys: ${identityKeysHelp}`,
    )
    .transform((keys) => (keys[0] === acceptUnsignedInvocations ? [] : keys)),
  /** Restate ingress, where the worker starts the daily certificate renewal job on start. */
  RESTATE_INGRESS_URL: z.string().url().default("http://127.0.0.1:8080"),
  /** Skip self-registration (when a deploy pipeline registers the endpoint instead). */
  RESTATE_REGISTER: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
  /** How often (ms) to check that Restate still knows our services, re-registering if its data was lost; 0 disables. */
  RESTATE_REGISTRATION_CHECK_MS: z.coerce.number().int().min(0).default(10_000),
  ...s3ConfigSchema.shape,
  /** Regions a deploy runs in (comma list) unless the environment overrides them (`environments.regions`). */
  REGIONS: z
    .string()
    .default("local")
    .transform((v) =>
      v
        .split(",")
        .map((r) => r.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[a-z0-9-]+$/)).min(1)),
  /** Apex domain of generated hostnames (`<project>-<env>-<workspace>.APEX_DOMAIN`). */
  APEX_DOMAIN: z.string().min(1).default("ctrl.localhost"),
  /** How long a deploy waits for every region to report its replicas running before failing. */
  READINESS_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  /** Longest durable sleep between two readiness checks (they start at 100 ms and back off up to this). */
  READINESS_POLL_MS: z.coerce.number().int().positive().default(1_000),
  /** Path of the OpenAPI document scraped from a running instance after readiness. */
  OPENAPI_PATH: z.string().startsWith("/").default("/openapi.json"),
  /** Time limit of the OpenAPI scrape; on timeout the step is skipped, the deploy goes on. */
  OPENAPI_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  /** Largest OpenAPI document stored; a bigger one is skipped. */
  OPENAPI_MAX_BYTES: z.coerce.number().int().positive().default(1_048_576),
  /** Image of the per-environment sentinel; empty means none configured (the deploy skips the sentinel step). */
  SENTINEL_IMAGE: z.string().default(""),
  /** How long one sentinel deploy of a fleet rollout waits for the agent's healthy report (ms); then `health_timeout`. */
  SENTINEL_DEPLOY_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
  /** Attempts of one fleet-rollout webhook delivery before it is given up; a failing webhook never blocks the rollout. */
  ROLLOUT_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  /** Time limit of one webhook POST (ms). */
  ROLLOUT_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  /** How often a paused or blocked deployment rollout re-reads its control state (ms). */
  ROLLOUT_CONTROL_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(2_000),
  /**
   * How long after a deployment rollout is `stable` the previous deployment's instances are stopped
   * (ms); unset keeps them running, so an emergency rollback needs no start.
   */
  ROLLOUT_PREVIOUS_SCALE_DOWN_DELAY_MS: z.coerce.number().int().min(0).optional(),
  /**
   * Where the halt supervisor sends PagerDuty Events API v2 payloads (https://events.pagerduty.com/v2/enqueue,
   * or http to a loopback address locally). Empty: no PagerDuty pages (the halt is still visible).
   */
  HALT_PAGERDUTY_URL: z.string().default(""),
  /** The PagerDuty integration's routing key (`routing_key` of every page). */
  HALT_PAGERDUTY_ROUTING_KEY: z.string().default(""),
  /** A Slack-compatible incoming webhook the halt supervisor posts `{text}` to. Empty: none. */
  HALT_SLACK_WEBHOOK_URL: z.string().default(""),
  /**
   * Master keys of the vault that encrypts ACME account keys and certificate private keys:
   * `k2:<base64 32 bytes>,k1:<base64 32 bytes>` (first encrypts, all decrypt; `openssl rand -base64 32`).
   * Unset disables certificate issuance.
   */
  VAULT_MASTER_KEYS: z.string().optional(),
  /** ACME directory (Let's Encrypt: https://acme-v02.api.letsencrypt.org/directory; local Pebble: https://127.0.0.1:14000/dir). */
  ACME_DIRECTORY_URL: z.string().url().default("https://127.0.0.1:14000/dir"),
  /** Contact e-mail of the ACME accounts. */
  ACME_EMAIL: z.string().default("certs@ctrl.localhost"),
  /** PEM file of extra CAs to trust for the ACME server (e.g. Pebble's own HTTPS certificate). */
  ACME_CA_FILE: z.string().optional(),
  /** Certificates expiring within this many days are renewed by the daily job. */
  CERT_RENEW_WINDOW_DAYS: z.coerce.number().int().positive().default(30),
  /** DNS provider for DNS-01 (wildcard domains): none, challtestsrv (Pebble's test DNS) or cloudflare. */
  DNS_PROVIDER: z.enum(["none", "challtestsrv", "cloudflare"]).default("none"),
  /** Management API of pebble-challtestsrv (DNS_PROVIDER=challtestsrv). */
  CHALLTESTSRV_URL: z.string().url().default("http://127.0.0.1:8055"),
  /** Cloudflare API token with Zone.DNS:Edit (DNS_PROVIDER=cloudflare). */
  CLOUDFLARE_API_TOKEN: z.string().optional(),
  /** Cloudflare zone id of the custom domains' parent zone (DNS_PROVIDER=cloudflare). */
  CLOUDFLARE_ZONE_ID: z.string().optional(),
  /**
   * DNS servers custom-domain verification asks for `_ctrl-challenge.<domain>` TXT records: a comma
   * list of `ip` or `ip:port` (local stack and tests: pebble-challtestsrv, `127.0.0.1:8053`). Unset:
   * the system's resolvers.
   */
  DNS_RESOLVER: z
    .string()
    .optional()
    .transform((v) =>
      v
        ? v
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
        : undefined,
    )
    .pipe(
      z
        .array(
          z
            .string()
            .regex(
              /^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9a-fA-F:]+\](:\d{1,5})?|[0-9a-fA-F:]+)$/,
              "an IP address, optionally with :port (e.g. 127.0.0.1:8053)",
            ),
        )
        .optional(),
    ),
  /** How long (ms) a new or retried custom domain's TXT record is looked for before the claim fails (default 7 days). */
  DOMAIN_VERIFICATION_WINDOW_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(7 * 86_400_000),
  /** First delay (ms) between two TXT lookups of a pending claim; it doubles up to DOMAIN_VERIFICATION_MAX_RECHECK_MS. */
  DOMAIN_VERIFICATION_FIRST_RECHECK_MS: z.coerce.number().int().positive().default(5_000),
  /** Longest delay (ms) between two TXT lookups of a pending claim. */
  DOMAIN_VERIFICATION_MAX_RECHECK_MS: z.coerce.number().int().positive().default(600_000),
  /** Time limit (ms) of one DNS query attempt of the verification lookup. */
  DNS_LOOKUP_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  /** Build backend for context deploys: `local` (artifact builder, no Docker), `docker` (buildx + registry), `none`. */
  BUILD_BACKEND: z.enum(["local", "docker", "none"]).default("local"),
  /** Wall-clock limit of one build, all commands included; the build fails with build_timeout after it. */
  BUILD_TIMEOUT_SECONDS: z.coerce.number().int().positive().default(600),
  /** Largest accepted build context upload (.tar.gz), in bytes. */
  BUILD_MAX_CONTEXT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(100 * 1024 * 1024),
  /** Largest total size of an extracted build context, in bytes. */
  BUILD_MAX_EXTRACTED_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(500 * 1024 * 1024),
  /** Most entries (files, directories, links) in a build context. */
  BUILD_MAX_FILES: z.coerce.number().int().positive().default(50_000),
  /** Parent directory of the per-build temporary directories; default `<tmpdir>/ctrl-builds`. */
  BUILD_WORK_DIR: z.string().optional(),
  /**
   * Local builder isolation. `bwrap` (default): `npm ci` / `npm run build` run in a bubblewrap
   * sandbox (own namespaces, an unprivileged uid, no network except an egress proxy to
   * BUILD_NPM_REGISTRY's host); builds fail with the install command when bwrap is missing
   * (`apt-get install -y bubblewrap`). `none`: build commands run as the worker's user — trusted
   * single-user machines only, warned at start and in every build log.
   */
  BUILD_SANDBOX: z.enum(["bwrap", "none"]).default("bwrap"),
  /** The npm registry builds install from (the one network destination the local builder needs). */
  BUILD_NPM_REGISTRY: z.string().url().default("https://registry.npmjs.org/"),
  /** CA bundle for TLS inside builds; defaults to NODE_EXTRA_CA_CERTS when that is set. */
  BUILD_CA_FILE: z.string().optional(),
  /** Docker backend: registry/repository images are pushed to, e.g. registry.example.com/ctrl/apps. */
  BUILD_DOCKER_REPOSITORY: z.string().optional(),
  /** Docker backend: target platform, e.g. linux/amd64 (the builder's default when unset). */
  BUILD_DOCKER_PLATFORM: z.string().optional(),
  /** Docker backend: a named buildx builder, e.g. a remote BuildKit (the current one when unset). */
  BUILD_DOCKER_BUILDER: z.string().optional(),
  ...loggingConfigSchema.shape,
});

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

/** Parses the environment; throws an error naming each bad variable and how to fix it. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return loadConfig(workerConfigSchema, env, { service: "ctrl-worker", schemaFile: "apps/ctrl-worker/src/config.ts" });
}
