import { createServer, type Server } from "node:http";
import { sendPlain } from "@ctrl/proxy";
import type { Frontline } from "./frontline.js";

/**
 * Frontline's ops listener (FRONTLINE_METRICS_PORT, loopback by default): `GET /metrics` is the
 * per-deployment traffic in Prometheus text format (what rollout analysis reads), `GET /_ctrl/health`
 * the counters. Separate from the public listeners, so no tenant hostname reaches either path here.
 */
export function createOpsServer(frontline: Frontline): Server {
  return createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") return sendPlain(res, 405, "method not allowed");
    if (path === "/metrics") {
      frontline.metrics.expose().then(
        ({ contentType, body }) => {
          res.writeHead(200, { "content-type": contentType, "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
          res.end(body);
        },
        () => sendPlain(res, 500, "metrics unavailable"),
      );
      return;
    }
    if (path === "/_ctrl/health") {
      const body = JSON.stringify({ status: "ok", ...frontline.stats });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
      return res.end(body);
    }
    sendPlain(res, 404, "not found");
  });
}
