import { join } from "node:path";
import type { Ports } from "../config.js";
import type { DatabaseChoice } from "../mysql.js";
import { localAcme, vaultKeysOf, type AcmeChoice } from "../acme.js";
import { localSecrets } from "../secrets.js";
import { restateIdentityOf } from "./restate-config.js";

/** Everything the step list is computed from (resolved once by `dev/stack.ts`). */
export interface StackSettings {
  /** Repository root. */
  root: string;
  /** `.data` (or CTRL_DEV_DATA_DIR): all local state lives here. */
  dataDir: string;
  ports: Ports;
  database: Exclude<DatabaseChoice, { kind: "missing" }>;
  logLevel: string;
  restateLog: string;
  /** The local ACME CA (Pebble): `auto` runs it when installed (default). */
  acme?: AcmeChoice;
  /** How krane and the builder isolate tenant code: bubblewrap (default) or `none` (KRANE_SANDBOX=none, warned). */
  sandbox?: "bwrap" | "none";
  /** krane's data dir when it cannot live under `dataDir` (see `kraneDataDirFor`). */
  kraneDataDir?: string;
}

/** S3 settings shared by every process (s3rver accepts any bucket with these credentials). */
export const localS3 = { bucket: "ctrl-builds", region: "us-east-1", accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
/** The local agent's instance ports (krane's default KRANE_PORT_RANGE; its credential allows exactly these). */
export const localInstancePorts = { low: 20000, high: 29999 };

/** The URLs of a stack with these ports. */
export function stackUrls(ports: Ports) {
  return {
    api: `http://127.0.0.1:${ports.api}`,
    grpc: `http://127.0.0.1:${ports.grpc}`,
    restateIngress: `http://127.0.0.1:${ports.restateIngress}`,
    restateAdmin: `http://127.0.0.1:${ports.restateAdmin}`,
    s3: `http://127.0.0.1:${ports.s3}`,
    worker: `http://127.0.0.1:${ports.worker}`,
    workerHealth: `http://127.0.0.1:${ports.workerHealth}/health`,
  };
}

/** What the steps are computed from: the settings plus the values derived from them once. */
export type StackContext = ReturnType<typeof stackContext>;

/** Derives the shared values of the step list (URLs, secrets, keys, the env both ctrl apps read). */
export function stackContext(s: StackSettings) {
  const urls = stackUrls(s.ports);
  // TypeScript apps run as `node --import tsx <file>`: one process that gets our signals itself. The tsx
  // CLI instead runs the program as a child and SIGKILLs it when a relayed signal is not acknowledged
  // within ~30 ms, which a loaded machine easily misses: no graceful stop, orphaned children.
  const node = process.execPath;
  const tsx = ["--import", import.meta.resolve("tsx")];
  const databaseUrl = s.database.url;
  const privateDb = s.database.kind === "private" ? s.database : undefined;
  const restateDir = join(s.dataDir, "restate");
  const s3Dir = join(s.dataDir, "s3");
  // Certificates for custom domains: Pebble + its fake DNS, HTTP-01 validated through frontline.
  // frontline's plain-HTTP port and the krane agent's endpoint (CTRL_DEV_FRONTLINE_PORT / CTRL_DEV_KRANE_PORT).
  const frontlinePort = s.ports.frontline;
  const kranePort = s.ports.krane;
  const acme = localAcme(s.acme ?? "auto", s.dataDir, frontlinePort);
  // ctrl-api's storage keys for environment variables (and the worker's for certificates): `<dataDir>/vault.keys`.
  const vaultKeys = vaultKeysOf(s.dataDir);
  // restate-server signs every request to the worker with this key; the worker accepts only those.
  const restateIdentity = restateIdentityOf(s.dataDir);
  // Tokens and the agent's vault key, generated once into `<dataDir>/secrets.env` (no app has a default).
  const { secrets } = localSecrets(s.dataDir);
  // What ctrl-api and ctrl-worker share (their config.ts documents each variable).
  const common = {
    DATABASE_URL: databaseUrl,
    S3_ENDPOINT: urls.s3,
    S3_REGION: localS3.region,
    S3_BUCKET: localS3.bucket,
    S3_ACCESS_KEY_ID: localS3.accessKeyId,
    S3_SECRET_ACCESS_KEY: localS3.secretAccessKey,
    LOG_LEVEL: s.logLevel,
    // The AWS SDK's "Node 22 from 2027" notice: the stack process itself prints it once; not once per child.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };

  return {
    s,
    urls,
    node,
    tsx,
    databaseUrl,
    privateDb,
    restateDir,
    s3Dir,
    frontlinePort,
    kranePort,
    acme,
    vaultKeys,
    restateIdentity,
    secrets,
    common,
  };
}
