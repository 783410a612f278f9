import { z } from "zod";

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

/** Every setting of the local stack, read once from the environment in `dev/stack.ts`. */
export const devConfigSchema = z.object({
  /** Use this MySQL/MariaDB database instead of finding or starting one (created if missing). */
  DATABASE_URL: z.string().url().optional(),
  /**
   * Where MySQL comes from when DATABASE_URL is unset: `auto` uses 127.0.0.1:3306 as root when it
   * answers, else starts a private mariadbd; `private` always starts the private one.
   */
  CTRL_DEV_MYSQL: z.enum(["auto", "private"]).default("auto"),
  /** Directory for all local state (MariaDB, Restate, S3 objects, logs); default `<repo>/.data`. */
  CTRL_DEV_DATA_DIR: z.string().optional(),
  /** ctrl-api HTTP/1.1 port (Connect, gRPC-Web, the public `/v2` API). */
  CTRL_DEV_API_PORT: port(7070),
  /** ctrl-api HTTP/2 cleartext port (gRPC). */
  CTRL_DEV_GRPC_PORT: port(7071),
  /** restate-server ingress port (where durable work is started). */
  CTRL_DEV_RESTATE_INGRESS_PORT: port(8080),
  /** restate-server admin API port (where the worker registers). */
  CTRL_DEV_RESTATE_ADMIN_PORT: port(9070),
  /** restate-server node-to-node port (unused by us, but it must be free). */
  CTRL_DEV_RESTATE_NODE_PORT: port(5122),
  /** s3rver port. */
  CTRL_DEV_S3_PORT: port(9000),
  /** ctrl-worker Restate endpoint port. */
  CTRL_DEV_WORKER_PORT: port(9080),
  /** ctrl-worker health port (`GET /health`, 200 once registered with Restate). */
  CTRL_DEV_WORKER_HEALTH_PORT: port(9081),
  /** Port of the private mariadbd (only used when one is started). */
  CTRL_DEV_MYSQL_PORT: port(3307),
  /** frontline's plain-HTTP port (`*.ctrl.localhost` resolves to loopback). */
  CTRL_DEV_FRONTLINE_PORT: port(8000),
  /** The krane agent's HTTP endpoint (health, status, instance logs). */
  CTRL_DEV_KRANE_PORT: port(7090),
  /**
   * The local ACME CA for custom-domain certificates: `auto` runs Debian's Pebble when installed
   * (`apt-get install -y pebble`) and says how to install it when not; `off` never runs it.
   */
  CTRL_DEV_ACME: z.enum(["auto", "pebble", "off"]).default("auto"),
  /** Log level of ctrl-api and ctrl-worker. */
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  /**
   * RUST_LOG of restate-server (it is chatty at info). `octocrab=off` hides its update check, which
   * fails harmlessly on machines without GitHub access.
   */
  RESTATE_LOG: z.string().default("warn,octocrab=off"),
  /** `1` prints pino lines as the raw JSON instead of `level msg key=value`. */
  CTRL_DEV_RAW_LOGS: z
    .enum(["0", "1"])
    .default("0")
    .transform((v) => v === "1"),
  /** Disables ANSI colours (https://no-color.org). */
  NO_COLOR: z.string().optional(),
});

/** The parsed settings of the local stack. */
export type DevConfig = z.infer<typeof devConfigSchema>;

/** Parses the environment; throws an error naming each bad variable. */
export function loadDevConfig(env: NodeJS.ProcessEnv): DevConfig {
  const parsed = devConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`dev stack: invalid configuration:\n${lines.join("\n")}\nSee dev/src/config.ts.`);
  }
  return parsed.data;
}

/** The fixed ports of one stack, by role. */
export interface Ports {
  api: number;
  grpc: number;
  restateIngress: number;
  restateAdmin: number;
  restateNode: number;
  s3: number;
  worker: number;
  workerHealth: number;
  mysql: number;
  frontline: number;
  krane: number;
}

/** Picks the ports out of the config. */
export function portsOf(config: DevConfig): Ports {
  return {
    api: config.CTRL_DEV_API_PORT,
    grpc: config.CTRL_DEV_GRPC_PORT,
    restateIngress: config.CTRL_DEV_RESTATE_INGRESS_PORT,
    restateAdmin: config.CTRL_DEV_RESTATE_ADMIN_PORT,
    restateNode: config.CTRL_DEV_RESTATE_NODE_PORT,
    s3: config.CTRL_DEV_S3_PORT,
    worker: config.CTRL_DEV_WORKER_PORT,
    workerHealth: config.CTRL_DEV_WORKER_HEALTH_PORT,
    mysql: config.CTRL_DEV_MYSQL_PORT,
    frontline: config.CTRL_DEV_FRONTLINE_PORT,
    krane: config.CTRL_DEV_KRANE_PORT,
  };
}
