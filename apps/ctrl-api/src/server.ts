import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import type { ConnectRouter } from "@connectrpc/connect";
import { newId } from "@ctrl/db";
import {
  AcmeService,
  ClusterService,
  CtrlService,
  DeploymentService,
  DomainService,
  EnvironmentService,
  HaltService,
  ProjectService,
  RootKeyService,
  SentinelRolloutService,
  UpgradePlanService,
} from "@ctrl/proto";
import Fastify, { type FastifyInstance } from "fastify";
import { authInterceptor } from "./auth.js";
import { boundedInputInterceptor, closeAfterUnreadBody, readMaxBytes, requestFramingProblem } from "./bounded-input.js";
import type { ApiDeps } from "./deps.js";
import { registerPublicApi } from "./http/v2/index.js";
import { createCtrlService } from "./services/ctrl-service/liveness.js";
import { createDeploymentService } from "./services/deployment-service/index.js";
import { createClusterService } from "./services/cluster-service/index.js";
import { createAcmeService } from "./services/acme-service/index.js";
import { createDomainService } from "./services/domain-service/index.js";
import { createEnvironmentService } from "./services/environment-service/index.js";
import { createSentinelRolloutService } from "./services/sentinel-rollout-service/index.js";
import { createUpgradePlanService } from "./services/upgrade-plan-service/index.js";
import { createHaltService } from "./services/halt-service/index.js";
import { createProjectService } from "./services/project-service/index.js";
import { createRootKeyService } from "./services/root-key-service/index.js";

/** Options for {@link buildServer}. */
export interface BuildServerOptions {
  /** h2c (for gRPC) instead of HTTP/1.1. */
  http2?: boolean;
}

/** Registers every Connect service (one place, shared by both listeners). */
export function connectRoutes(deps: ApiDeps) {
  return (router: ConnectRouter) => {
    router.service(CtrlService, createCtrlService(deps));
    router.service(DeploymentService, createDeploymentService(deps));
    router.service(ClusterService, createClusterService(deps));
    router.service(AcmeService, createAcmeService(deps));
    router.service(DomainService, createDomainService(deps));
    router.service(SentinelRolloutService, createSentinelRolloutService(deps));
    router.service(EnvironmentService, createEnvironmentService(deps));
    router.service(UpgradePlanService, createUpgradePlanService(deps));
    router.service(HaltService, createHaltService(deps));
    router.service(ProjectService, createProjectService(deps));
    router.service(RootKeyService, createRootKeyService(deps));
  };
}

/**
 * Builds the fastify server with every Connect service and the public HTTP API, without listening.
 * Every response carries `x-request-id`, and every log line of the request carries `reqId`.
 */
export async function buildServer(deps: ApiDeps, options: BuildServerOptions = {}): Promise<FastifyInstance> {
  const common = {
    loggerInstance: deps.logger,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const incoming = req.headers["x-request-id"];
      return typeof incoming === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(incoming) ? incoming : newId("req");
    },
    // Our onResponse hook logs one line per request instead (fastify 6 moves this to logController).
    disableRequestLogging: true,
    // Bodies fastify itself reads (a Connect route called with a content type connect does not
    // serve, /health, 404s); Connect routes read theirs under `readMaxBytes`, /v2 under its own limit.
    bodyLimit: readMaxBytes,
  };
  // One code path for both listeners; fastify's types split on `http2`, the behaviour does not.
  // h2c: close() sends GOAWAY to open sessions (gRPC clients keep theirs open), else it waits for
  // fastify's 72 s session timeout. HTTP/1.1 keeps the default: idle keep-alives closed, requests finish.
  const app = (options.http2
    ? Fastify({ ...common, http2: true, forceCloseConnections: true })
    : Fastify(common)) as unknown as FastifyInstance;

  app.addHook("onRequest", async (req, reply) => {
    // Set on the raw response: connect-fastify writes to it directly, bypassing fastify's reply hooks.
    reply.raw.setHeader("x-request-id", req.id);
    const problem = requestFramingProblem(req.raw);
    if (problem) return reply.code(400).send({ code: "invalid_argument", message: problem });
    closeAfterUnreadBody(req.raw, reply.raw);
  });
  app.addHook("onResponse", async (req, reply) => {
    req.log.info(
      { method: req.method, url: req.url.split("?")[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      "request",
    );
  });

  app.get("/health", async () => ({ status: "ok" }));

  await app.register(fastifyConnectPlugin, {
    routes: connectRoutes(deps),
    // Bounded input first: a request is size-checked while it is read (readMaxBytes), parsed, and
    // checked for unknown enum values and inexact int64s before any credential is looked up.
    readMaxBytes,
    interceptors: [
      boundedInputInterceptor(),
      authInterceptor(deps.db, { operatorToken: deps.operatorToken, frontlineToken: deps.frontlineToken }, deps.now ?? Date.now),
    ],
    shutdownTimeoutMs: 5_000,
    jsonOptions: { ignoreUnknownFields: false },
  });
  await registerPublicApi(app, deps);
  return app;
}
