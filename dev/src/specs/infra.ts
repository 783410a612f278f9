import { chmod, mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { restateServerBinary } from "@ctrl/testing";
import { redactSignatures } from "../logs.js";
import { answersAsRoot, initPrivateDataDir, mariadbdArgs } from "../mysql.js";
import type { StepSpec } from "../runner.js";
import { localS3, type StackContext } from "./context.js";
import { restateToml } from "./restate-config.js";

const require = createRequire(import.meta.url);

/** The `mysql` step. */
export function mysqlSpec(c: StackContext): StepSpec {
  const { s, databaseUrl, privateDb } = c;
  return {
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
  };
}

/** The `restate` step. */
export function restateSpec(c: StackContext): StepSpec {
  const { s, urls, restateDir, restateIdentity } = c;
  return {
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
  };
}

/** The `s3` step. */
export function s3Spec(c: StackContext): StepSpec {
  const { s, urls, s3Dir } = c;
  return {
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
  };
}
