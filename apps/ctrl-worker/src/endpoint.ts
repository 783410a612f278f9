import "./polyfill.js";
import * as restate from "@restatedev/restate-sdk";
import http2 from "node:http2";
import type { WorkerDeps } from "./deps.js";
import { createBuildService } from "./services/build/service.js";
import { createCertificateService } from "./services/certificate/service.js";
import { createVersioningService } from "./services/versioning/service.js";
import { createDeployWorkflow } from "./services/deploy/service.js";
import { createDeploymentService } from "./services/deployment/service.js";
import { createRoutingService } from "./services/routing/service.js";
import { createSentinelService } from "./services/sentinel/service.js";
import { createSentinelRolloutService } from "./services/sentinel-rollout/service.js";
import { createSentinelRolloutNotifier } from "./services/sentinel-rollout/webhook.js";

/** Every Restate service this worker serves. */
export function createServices(deps: WorkerDeps) {
  return [createVersioningService(deps), createDeployWorkflow(deps), createDeploymentService(deps), createRoutingService(deps), createBuildService(deps), createCertificateService(deps), createSentinelService(deps), createSentinelRolloutService(deps), createSentinelRolloutNotifier(deps)];
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

/** Builds the endpoint for `deps` (composition root: main.ts, or a test in-process). */
export function createEndpoint(deps: WorkerDeps): WorkerEndpoint {
  const handler = restate.createEndpointHandler({ services: createServices(deps) });
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
