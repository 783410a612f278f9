import { createServer, type Server } from "node:http";
import { timingSafeEqual } from "node:crypto";

/** What the agent's HTTP endpoint serves. */
export interface AgentHttpDeps {
  token: string;
  status: () => Record<string, unknown>;
  /** Last lines of an instance's log; undefined for an unknown instance. */
  logs: (instance: string, lines: number) => Promise<string[] | undefined>;
}

/** Lines returned when `?lines` is absent, and the most one request may ask for. */
export const defaultLogLines = 100;
export const maxLogLines = 10_000;

/**
 * The agent's small HTTP endpoint:
 * - `GET /health` → 200 (no auth; for supervisors),
 * - `GET /status` → JSON: cursors, stream state, every workload's observed instances,
 * - `GET /logs/<instance>?lines=N` → the last N lines (default 100, max 10,000) of the instance's
 *   log as text/plain, across the current and the last rotated file.
 * `/status` and `/logs` require `Authorization: Bearer <KRANE_TOKEN>` (logs can hold secrets).
 */
export function createAgentHttpServer(deps: AgentHttpDeps): Server {
  const expected = Buffer.from(`Bearer ${deps.token}`);
  const authorized = (header: string | undefined) => {
    const got = Buffer.from(header ?? "");
    return got.length === expected.length && timingSafeEqual(got, expected);
  };
  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://agent");
    const send = (status: number, body: string, type = "application/json") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (req.method !== "GET") return send(405, JSON.stringify({ error: "only GET" }));
    if (url.pathname === "/health") return send(200, JSON.stringify({ status: "ok" }));
    if (!authorized(req.headers.authorization)) return send(401, JSON.stringify({ error: "missing or wrong bearer token" }));
    if (url.pathname === "/status") return send(200, JSON.stringify(deps.status()));
    const match = /^\/logs\/([^/]+)$/.exec(url.pathname);
    if (match) {
      const raw = url.searchParams.get("lines");
      const lines = raw === null ? defaultLogLines : Number(raw);
      if (!Number.isInteger(lines) || lines < 1 || lines > maxLogLines) return send(400, JSON.stringify({ error: `lines must be an integer in 1-${maxLogLines}` }));
      const instance = decodeURIComponent(match[1]!);
      void deps.logs(instance, lines).then(
        (out) => (out === undefined ? send(404, JSON.stringify({ error: `no instance ${instance} on this agent` })) : send(200, out.length ? `${out.join("\n")}\n` : "", "text/plain; charset=utf-8")),
        (err: unknown) => send(500, JSON.stringify({ error: (err as Error).message })),
      );
      return;
    }
    send(404, JSON.stringify({ error: "not found" }));
  });
}
