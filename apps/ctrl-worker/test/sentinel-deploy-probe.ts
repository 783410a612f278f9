/**
 * A tiny Restate service for benchmarks and tests that need the bare round trip of
 * `SentinelService.deploy`, which is ingress-private: `FleetBenchProbe.deploy({sentinelId, image})`
 * calls it from inside Restate and returns its result. Hosted on its own endpoint next to the
 * worker's (service names are global per restate-server, so one probe per server).
 */
import "../src/polyfill.js";
import * as restate from "@restatedev/restate-sdk";
import http2 from "node:http2";
import type { SentinelDeployResult, SentinelServiceApi } from "../src/services/sentinel-service/api.js";

const probe = restate.service({
  name: "FleetBenchProbe",
  handlers: {
    deploy: (ctx: restate.Context, req: { sentinelId: string; image: string }): Promise<SentinelDeployResult> =>
      ctx.objectClient<SentinelServiceApi>({ name: "SentinelService" }, req.sentinelId).deploy({ image: req.image }),
  },
});

/** Starts the probe endpoint on a free port; register its URL with the restate admin API. */
export async function startSentinelDeployProbe(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http2.createServer(restate.createEndpointHandler({ services: [probe] }));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => (sessions.add(s), s.once("close", () => sessions.delete(s))));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.destroy();
      await closed;
    },
  };
}
