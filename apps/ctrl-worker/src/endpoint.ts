import "./polyfill.js";
import * as restate from "@restatedev/restate-sdk";
import http2 from "node:http2";
import type { WorkerDeps } from "./deps.js";
import { createBuildService } from "./services/build-service/service.js";
import { createCertificateService } from "./services/certificate-service/service.js";
import { createDomainVerificationService } from "./services/domain-verification-service/service.js";
import { createCertificateRequestService } from "./services/certificate-request-service/service.js";
import { createVersioningService } from "./services/versioning-service/service.js";
import { createDeployWorkflow } from "./services/deploy-workflow/service.js";
import { createDeploymentService } from "./services/deployment-service/service.js";
import { createRoutingService } from "./services/routing-service/service.js";
import { createSentinelService } from "./services/sentinel-service/service.js";
import { createSentinelRolloutService } from "./services/sentinel-rollout-service/service.js";
import { createSentinelRolloutNotifier } from "./services/sentinel-rollout-service/webhook.js";
import { createSupervisorService } from "./services/supervisor-service/service.js";

/** Every Restate service this worker serves. */
export function createServices(deps: WorkerDeps) {
  return [
    createVersioningService(deps),
    createDeployWorkflow(deps),
    createDeploymentService(deps),
    createRoutingService(deps),
    createBuildService(deps),
    createCertificateService(deps),
    createCertificateRequestService(deps),
    createDomainVerificationService(deps),
    createSentinelService(deps),
    createSentinelRolloutService(deps),
    createSentinelRolloutNotifier(deps),
    createSupervisorService(deps),
  ];
}

/** A configured but not listening Restate endpoint server (HTTP/2 cleartext). */
export interface WorkerEndpoint {
  server: http2.Http2Server;
  /** Listens and resolves with the bound port. */
  listen(port: number, host: string): Promise<number>;
  /**
   * Stops accepting work and closes open HTTP/2 sessions. restate-server keeps its session open,
   * so `server.close()` alone would never finish and the old process would keep receiving calls.
   */
  close(graceMs?: number): Promise<void>;
}

/** How the endpoint authenticates its caller. */
export interface EndpointOptions {
  /**
   * Request-identity public keys (`publickeyv1_…`) of the restate-server(s) allowed to call this
   * endpoint. Every request but `/health` (discovery included) must carry a JWT signed with one of
   * them, or the SDK answers 401. Empty accepts unsigned requests: only main.ts's explicit,
   * logged opt-out and tests that prove the refusal pass that.
   */
  identityKeys: string[];
}

/** Builds the endpoint for `deps` (composition root: main.ts, or a test in-process). */
export function createEndpoint(deps: WorkerDeps, options: EndpointOptions): WorkerEndpoint {
  const handler = restate.createEndpointHandler({
    services: createServices(deps),
    identityKeys: options.identityKeys,
    // Private unless a service says otherwise: Restate's ingress refuses to start an ingress-private
    // service, so only what ctrl-api calls (DeployWorkflow, DeploymentService, CertificateRequests)
    // is reachable there, and a service added later is internal until someone decides it is not.
    defaultServiceOptions: { ingressPrivate: true },
  });
  const server = http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve((server.address() as { port: number }).port));
      }),
    close: async (graceMs = 2_000) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.close();
      const timer = setTimeout(() => {
        for (const s of sessions) s.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
