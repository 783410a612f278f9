import { join } from "node:path";
import { acmePorts } from "../acme.js";
import type { StepSpec } from "../runner.js";
import { localInstancePorts, type StackContext } from "./context.js";

/** The `ctrl-worker` step. */
export function ctrlWorkerSpec(c: StackContext): StepSpec {
  const { s, urls, node, tsx, acme, restateIdentity, common } = c;
  return {
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
  };
}

/** The `ctrl-api` step. */
export function ctrlApiSpec(c: StackContext): StepSpec {
  const { s, urls, node, tsx, vaultKeys, secrets, common } = c;
  return {
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
  };
}

/** The region `local` agent with the process driver (apps/krane/README.md). Its data dir keeps cursors, specs and unpacked artifacts; Ctrl-C stops its instances and the next run restarts them. */
export function kraneSpec(c: StackContext): StepSpec {
  const { s, urls, node, tsx, databaseUrl, kranePort, secrets, common } = c;
  return {
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
  };
}

/** The edge (apps/frontline/README.md): routes by Host to sentinels or instances of region `local`. */
export function frontlineSpec(c: StackContext): StepSpec {
  const { s, urls, node, tsx, databaseUrl, frontlinePort, acme, secrets } = c;
  return {
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
  };
}
