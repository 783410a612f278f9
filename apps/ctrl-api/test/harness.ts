/**
 * The control-plane test stack: real MariaDB (fresh database), real restate-server, real s3rver,
 * the worker's Restate endpoint and ctrl-api in-process on free ports. Reused by every app's
 * integration tests: `const stack = await startTestStack(); … await stack.close();`.
 */
import { createEndpoint, type WorkerEndpoint } from "@ctrl/ctrl-worker/endpoint";
import { createAgentCredential, seedLocal, type SeedResult } from "@ctrl/db";
import { randomBytes } from "node:crypto";
import { createStorage, type Storage } from "@ctrl/s3";
import {
  createTestDatabase,
  registerDeployment,
  startRestate,
  startS3,
  type RestateServer,
  type S3Server,
  type TestDatabase,
} from "@ctrl/testing";
import type { Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as clients from "@restatedev/restate-sdk-clients";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import type { ApiDeps } from "../src/deps.js";
import { buildServer } from "../src/server.js";

/** Everything a test needs to talk to the stack. */
export interface TestStack {
  database: TestDatabase;
  restate: RestateServer;
  s3: S3Server;
  storage: Storage;
  /** ctrl-api over HTTP/1.1 (Connect, gRPC-Web, /v2). */
  apiUrl: string;
  /** ctrl-api over h2c (gRPC). */
  grpcUrl: string;
  /** The operator token (CTRL_OPERATOR_TOKEN): every workspace, never ClusterService. */
  operatorToken: string;
  /** Frontline's token (CTRL_FRONTLINE_TOKEN): AcmeService only. */
  frontlineToken: string;
  /**
   * A live agent credential's token for `region` (minted on first use, then reused for the same
   * bounds). Default bounds: advertise host 127.0.0.1, ports 20000-29999 (krane's default range).
   */
  agentToken(region?: string, bounds?: AgentBounds): Promise<string>;
  seed: SeedResult;
  deps: ApiDeps;
  /** The in-process worker endpoint, or undefined with `worker: false`. */
  worker?: { endpoint: WorkerEndpoint; url: string };
  /** Starts (again) an in-process worker endpoint and registers it. */
  startWorker(): Promise<{ endpoint: WorkerEndpoint; url: string }>;
  close(): Promise<void>;
}

/** The addresses an agent credential allows (see `agent_credentials`). */
export interface AgentBounds {
  advertiseHosts?: string[];
  ports?: { low: number; high: number };
}

/** Options for {@link startTestStack}. */
export interface TestStackOptions {
  /** Run the worker endpoint in-process (default true). Tests that run the worker as a child process pass false. */
  worker?: boolean;
  /** Extra env for restate-server. */
  restateEnv?: Record<string, string>;
  logLevel?: string;
}

/** Starts the stack. Every resource is private to the caller (ports, database, data dirs). */
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const logger = pino({ level: options.logLevel ?? process.env.TEST_LOG_LEVEL ?? "silent" });
  const [database, restate, s3] = await Promise.all([
    createTestDatabase(),
    startRestate({ env: { RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS: "1000", ...options.restateEnv } }),
    startS3(),
  ]);
  const storage = createStorage({
    endpoint: s3.endpoint,
    region: "us-east-1",
    bucket: "ctrl-builds",
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  });
  await storage.ensureBucket();
  const seed = await seedLocal(database.db);
  // Random per stack, like the local stack's secrets.env: no test relies on a fixed secret.
  const operatorToken = `operator-${randomBytes(24).toString("base64url")}`;
  const frontlineToken = `frontline-${randomBytes(24).toString("base64url")}`;
  const agentTokens = new Map<string, Promise<string>>();
  const deps: ApiDeps = {
    db: database.db,
    storage,
    restate: clients.connect({ url: restate.ingressUrl }),
    logger,
    operatorToken,
    frontlineToken,
    version: "test",
    instanceId: "api-test",
  };
  const http1: FastifyInstance = await buildServer(deps);
  await http1.listen({ port: 0, host: "127.0.0.1" });
  const grpc: FastifyInstance = await buildServer(deps, { http2: true });
  await grpc.listen({ port: 0, host: "127.0.0.1" });
  const portOf = (app: FastifyInstance) => (app.server.address() as { port: number }).port;

  const stack: TestStack = {
    database,
    restate,
    s3,
    storage,
    apiUrl: `http://127.0.0.1:${portOf(http1)}`,
    grpcUrl: `http://127.0.0.1:${portOf(grpc)}`,
    operatorToken,
    frontlineToken,
    agentToken(region = "local", bounds = {}) {
      const advertiseHosts = bounds.advertiseHosts ?? ["127.0.0.1"];
      const ports = bounds.ports ?? { low: 20000, high: 29999 };
      const cacheKey = JSON.stringify([region, advertiseHosts, ports]);
      let token = agentTokens.get(cacheKey);
      if (!token) {
        token = createAgentCredential(database.db, { name: `test agent ${region}`, region, advertiseHosts, ports, now: Date.now() }).then(
          (c) => c.token,
        );
        agentTokens.set(cacheKey, token);
      }
      return token;
    },
    seed,
    deps,
    async startWorker() {
      const endpoint = createEndpoint({ db: database.db, storage, logger }, { identityKeys: restate.identityKeys });
      const port = await endpoint.listen(0, "127.0.0.1");
      const url = `http://127.0.0.1:${port}`;
      await registerDeployment(restate.adminUrl, url);
      stack.worker = { endpoint, url };
      return stack.worker;
    },
    async close() {
      await Promise.allSettled([http1.close(), grpc.close()]);
      await stack.worker?.endpoint.close(500);
      await Promise.allSettled([restate.dispose(), s3.dispose()]);
      storage.destroy();
      await database.drop();
    },
  };
  if (options.worker ?? true) await stack.startWorker();
  return stack;
}

/**
 * A Connect transport to the stack's ctrl-api (HTTP/1.1) that sends `token` (default: the operator
 * token) on every call: `createClient(DeploymentService, stackTransport(stack))`.
 */
export function stackTransport(stack: Pick<TestStack, "apiUrl" | "operatorToken">, token = stack.operatorToken): Transport {
  return createConnectTransport({
    baseUrl: stack.apiUrl,
    httpVersion: "1.1",
    interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))],
  });
}
