import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createDb, ensureAgentCredential, migrateToLatest, seedLocal, type SeedResult } from "@ctrl/db";
import { ensureDatabase } from "@ctrl/db/testing";
import { generateRestateIdentity, restateIdentityFromPem, restateServerBinary } from "@ctrl/testing";
import { createStorage } from "@ctrl/s3";
import { packSentinelArtifact } from "@ctrl/sentinel/pack";
import type { Ports } from "./config.js";
import { answersAsRoot, initPrivateDataDir, mariadbdArgs, type DatabaseChoice } from "./mysql.js";
import { redactSignatures } from "./logs.js";
import type { StepSpec } from "./runner.js";
import { acmePorts, localAcme, vaultKeysOf, type AcmeChoice } from "./acme.js";
import { localSecrets } from "./secrets.js";

const require = createRequire(import.meta.url);

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

/**
 * The local stack as a declarative list. Order in the list is only the order of the summary; the
 * start order comes from `after`, and stop is the reverse of start. To add a process (krane, frontline,
 * pebble…), append a `service` entry: command, env, ports, readiness, and what it comes after. To add a
 * one-shot step (packing the sentinel artifact…), append a `task` whose value later entries read from
 * `outputs` in an `env` function.
 */
export function stackSpecs(s: StackSettings): StepSpec[] {
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

  return [
    {
      kind: "service",
      name: "mysql",
      enabled: () => (privateDb ? true : `using ${s.database.description}`),
      command: privateDb?.mariadbd ?? "mariadbd",
      args: privateDb ? mariadbdArgs(privateDb) : [],
      ports: { "(private mariadbd)": s.ports.mysql },
      prepare: async (log) => {
        if (privateDb) await initPrivateDataDir(privateDb, log);
      },
      ready: { probe: `mariadbd on 127.0.0.1:${s.ports.mysql} to let root in`, check: () => answersAsRoot("127.0.0.1", s.ports.mysql) },
      graceMs: 20_000,
      urls: { mysql: databaseUrl },
    },
    {
      kind: "service",
      name: "restate",
      command: restateServerBinary(),
      args: ["--config-file", join(restateDir, "restate.toml"), "--no-logo"],
      env: { RUST_LOG: s.restateLog },
      ports: { ingress: s.ports.restateIngress, admin: s.ports.restateAdmin, "node port": s.ports.restateNode },
      prepare: async () => {
        await mkdir(restateDir, { recursive: true });
        await writeFile(join(restateDir, "restate.toml"), restateToml(join(restateDir, "data"), s.ports, restateIdentity.file));
      },
      ready: {
        probe: "restate admin /health and ingress /restate/health to answer 200",
        check: async () =>
          (await fetch(`${urls.restateAdmin}/health`)).status === 200 &&
          (await fetch(`${urls.restateIngress}/restate/health`)).status === 200,
      },
      graceMs: 10_000,
      // Loopback only, and it must stay so: whoever reaches the ingress can start public workflows,
      // whoever reaches the admin API can register endpoints and read state (docs/security.md).
      urls: {
        "restate ingress": `${urls.restateIngress}  (private: loopback only)`,
        "restate admin": `${urls.restateAdmin}  (private: loopback only, never expose)`,
      },
    },
    {
      kind: "service",
      name: "s3",
      command: process.execPath,
      args: [
        join(require.resolve("s3rver/package.json"), "..", "bin", "s3rver.js"),
        "-d",
        s3Dir,
        "-a",
        "127.0.0.1",
        "-p",
        String(s.ports.s3),
        "--no-vhost-buckets",
      ],
      ports: { http: s.ports.s3 },
      prepare: async () => {
        await mkdir(s3Dir, { recursive: true });
        // The data dir is searchable by other uids (for krane's sandboxes); the objects are not.
        await chmod(s3Dir, 0o700);
      },
      // s3rver answers GET / with 403 without credentials: any HTTP answer means it listens.
      ready: { probe: `s3rver on ${urls.s3} to answer`, check: async () => (await fetch(urls.s3)).status > 0 },
      // s3rver logs whole request URLs: presigned signatures must not reach a terminal or log file.
      formatLine: redactSignatures,
      urls: { s3: `${urls.s3}  (bucket ${localS3.bucket}, keys ${localS3.accessKeyId}/${localS3.secretAccessKey})` },
    },
    {
      kind: "task",
      name: "migrate",
      after: ["mysql"],
      run: async (_outputs, log) => {
        await ensureDatabase(databaseUrl);
        const db = createDb({ url: databaseUrl, connectionLimit: 2 });
        try {
          const applied = await migrateToLatest(db);
          log(applied.length ? `applied ${applied.join(", ")}` : "schema up to date");
        } finally {
          await db.destroy();
        }
      },
    },
    {
      kind: "task",
      name: "seed",
      after: ["migrate"],
      run: async (_outputs, log): Promise<SeedResult> => {
        const db = createDb({ url: databaseUrl, connectionLimit: 2 });
        try {
          const seed = await seedLocal(db);
          log(`${seed.created ? "created" : "found"} workspace ${seed.workspaceId}, project ${seed.projectId}; minted a new root key`);
          return seed;
        } finally {
          await db.destroy();
        }
      },
    },
    {
      // The region-`local` agent's credential: KRANE_TOKEN from secrets.env, bound to 127.0.0.1 and the
      // instance ports. Idempotent; a revoked one stays revoked (delete secrets.env for a new token).
      kind: "task",
      name: "agent-credential",
      after: ["migrate"],
      run: async (_outputs, log) => {
        const db = createDb({ url: databaseUrl, connectionLimit: 2 });
        try {
          const credential = await ensureAgentCredential(db, {
            token: secrets.KRANE_TOKEN,
            name: "local stack krane",
            region: "local",
            advertiseHosts: ["127.0.0.1"],
            ports: localInstancePorts,
            now: Date.now(),
          });
          log(`agent credential ${credential.id} (region local, 127.0.0.1:${localInstancePorts.low}-${localInstancePorts.high})`);
        } finally {
          await db.destroy();
        }
      },
    },
    {
      // apps/sentinel bundled into an artifact and uploaded; its reference is the worker's SENTINEL_IMAGE,
      // so sentinels run through the agent like any workload (content-addressed: unchanged → same ref).
      kind: "task",
      name: "sentinel-artifact",
      after: ["s3"],
      run: async (_outputs, log): Promise<string> => {
        const storage = createStorage({
          endpoint: urls.s3,
          region: localS3.region,
          bucket: localS3.bucket,
          accessKeyId: localS3.accessKeyId,
          secretAccessKey: localS3.secretAccessKey,
        });
        try {
          await storage.ensureBucket();
          const image = await packSentinelArtifact(storage);
          log(`sentinel image ${image}`);
          return image;
        } finally {
          storage.destroy();
        }
      },
    },
    {
      kind: "service",
      name: "ctrl-worker",
      after: ["migrate", "restate", "s3", "sentinel-artifact", ...acme.workerAfter],
      command: node,
      args: [...tsx, join(s.root, "apps/ctrl-worker/src/main.ts")],
      env: (outputs) => ({
        ...common,
        SENTINEL_IMAGE: String(outputs["sentinel-artifact"] ?? ""),
        WORKER_HOST: "127.0.0.1",
        WORKER_PORT: String(s.ports.worker),
        WORKER_HEALTH_PORT: String(s.ports.workerHealth),
        WORKER_ADVERTISED_URL: urls.worker,
        RESTATE_ADMIN_URL: urls.restateAdmin,
        RESTATE_INGRESS_URL: urls.restateIngress,
        RESTATE_IDENTITY_KEYS: restateIdentity.publicKey,
        BUILD_SANDBOX: s.sandbox ?? "bwrap",
        ...acme.workerEnv,
      }),
      ports: { "restate endpoint": s.ports.worker, health: s.ports.workerHealth },
      // 200 only once the worker has registered itself with restate-server.
      ready: { http: urls.workerHealth },
      urls: { "ctrl-worker": `${urls.worker}  (health ${urls.workerHealth})` },
    },
    {
      kind: "service",
      name: "ctrl-api",
      after: ["migrate", "restate", "s3"],
      command: node,
      args: [...tsx, join(s.root, "apps/ctrl-api/src/main.ts")],
      env: {
        ...common,
        HOST: "127.0.0.1",
        PORT: String(s.ports.api),
        GRPC_PORT: String(s.ports.grpc),
        CTRL_OPERATOR_TOKEN: secrets.CTRL_OPERATOR_TOKEN,
        CTRL_FRONTLINE_TOKEN: secrets.CTRL_FRONTLINE_TOKEN,
        RESTATE_INGRESS_URL: urls.restateIngress,
        INSTANCE_ID: "api-local",
        VAULT_MASTER_KEYS: vaultKeys,
        VAULT_REGION_KEYS: `local=${secrets.KRANE_VAULT_MASTER_KEYS}`,
      },
      ports: { http: s.ports.api, grpc: s.ports.grpc },
      ready: { http: `${urls.api}/health` },
      urls: { "ctrl-api": `${urls.api}  (Connect + public /v2 API)`, "ctrl-api gRPC": `${urls.grpc}  (h2c)` },
    },
    {
      // The region `local` agent with the process driver (apps/krane/README.md). Its data dir keeps
      // cursors, specs and unpacked artifacts; Ctrl-C stops its instances and the next run restarts them.
      kind: "service",
      name: "krane",
      after: ["ctrl-api", "s3", "agent-credential"],
      command: node,
      args: [...tsx, join(s.root, "apps/krane/src/main.ts")],
      env: {
        ...common,
        KRANE_CONTROL_PLANE_URL: urls.api,
        KRANE_TOKEN: secrets.KRANE_TOKEN,
        KRANE_REGION: "local",
        KRANE_ADVERTISE_HOST: "127.0.0.1",
        KRANE_PORT_RANGE: `${localInstancePorts.low}-${localInstancePorts.high}`,
        KRANE_DATA_DIR: s.kraneDataDir ?? join(s.dataDir, "krane"),
        KRANE_HTTP_PORT: String(kranePort),
        KRANE_STOP_INSTANCES_ON_EXIT: "true",
        KRANE_SANDBOX: s.sandbox ?? "bwrap",
        // Sentinels read their environment's instances from MySQL (apps/sentinel/README.md).
        KRANE_SENTINEL_ENV: JSON.stringify({ DATABASE_URL: databaseUrl }),
        KRANE_VAULT_MASTER_KEYS: secrets.KRANE_VAULT_MASTER_KEYS,
      },
      ports: { http: kranePort },
      ready: { http: `http://127.0.0.1:${kranePort}/health` },
      graceMs: 15_000,
      urls: {
        krane: `http://127.0.0.1:${kranePort}  (GET /logs/<instance>?lines=N with KRANE_TOKEN from secrets.env; instances on ports 20000-29999)`,
      },
    },
    {
      // The edge (apps/frontline/README.md): routes by Host to sentinels or instances of region `local`.
      kind: "service",
      name: "frontline",
      after: ["migrate", "ctrl-api"],
      command: node,
      args: [...tsx, join(s.root, "apps/frontline/src/main.ts")],
      env: {
        DATABASE_URL: databaseUrl,
        HOST: "127.0.0.1",
        PORT: String(frontlinePort),
        FRONTLINE_REGION: "local",
        CTRL_API_URL: urls.api,
        CTRL_FRONTLINE_TOKEN: secrets.CTRL_FRONTLINE_TOKEN,
        FRONTLINE_UPSTREAM_PORT_RANGE: `${localInstancePorts.low}-${localInstancePorts.high}`,
        LOG_LEVEL: s.logLevel,
        ...acme.frontlineEnv,
      },
      ports: { http: frontlinePort, ...(acme.enabled ? { https: acmePorts.frontlineHttps } : {}) },
      ready: { http: `http://127.0.0.1:${frontlinePort}/_ctrl/health` },
      urls: {
        frontline: `http://127.0.0.1:${frontlinePort}  (curl -H 'Host: hello-production-local.ctrl.localhost' …, or http://<domain>:${frontlinePort}/)`,
      },
    },
    ...acme.steps,
  ];
}

/**
 * The local stack's Restate request identity: an ed25519 key made on the first run and kept in
 * `<dataDir>/restate-identity.pem` (0600), so the worker's RESTATE_IDENTITY_KEYS stays valid.
 */
export function restateIdentityOf(dataDir: string): { file: string; publicKey: string } {
  const file = join(dataDir, "restate-identity.pem");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, generateRestateIdentity().privateKeyPem, { mode: 0o600 });
  }
  return { file, publicKey: restateIdentityFromPem(readFileSync(file, "utf8")).publicKey };
}

/**
 * restate-server's config: same shape as the test harness's (packages/testing/src/restate.ts).
 * Every listener binds to 127.0.0.1: ingress, admin and the node port are private surfaces.
 */
export function restateToml(baseDir: string, ports: Ports, identityKeyFile: string): string {
  return [
    `base-dir = "${baseDir}"`,
    `node-name = "ctrl-dev"`,
    `disable-telemetry = true`,
    `default-num-partitions = 4`,
    `listen-mode = "tcp"`,
    `bind-address = "127.0.0.1:${ports.restateNode}"`,
    `advertised-address = "http://127.0.0.1:${ports.restateNode}"`,
    // Signs requests to service endpoints; the worker verifies them (RESTATE_IDENTITY_KEYS).
    `request-identity-private-key-pem-file = "${identityKeyFile}"`,
    `[admin]`,
    `bind-address = "127.0.0.1:${ports.restateAdmin}"`,
    `[ingress]`,
    `bind-address = "127.0.0.1:${ports.restateIngress}"`,
    "",
  ].join("\n");
}
