import http from "node:http";

/** A tiny HTTP/1.1 server answering `GET /health` with the worker's state (200 once registered). */
export function createHealthServer(state: () => { registered: boolean }): http.Server {
  return http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/health") {
      const s = state();
      res.writeHead(s.registered ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: s.registered ? "ok" : "starting", ...s }));
      return;
    }
    res.writeHead(404).end();
  });
}
