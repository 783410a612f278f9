import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
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
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: string, type = "application/json") => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    // Nothing here reads a body: close after answering one, so a client cannot stream megabytes
    // into a connection Node would otherwise drain for keep-alive.
    if (req.method !== "GET") {
      res.setHeader("connection", "close");
      return send(405, JSON.stringify({ error: "only GET" }));
    }
    const target = parseTarget(req.url ?? "");
    if (!target) return send(400, JSON.stringify({ error: "the request target must be a path (origin-form, starting with a single /)" }));
    if (target.pathname === "/health") return send(200, JSON.stringify({ status: "ok" }));
    if (!authorized(req.headers.authorization)) return send(401, JSON.stringify({ error: "missing or wrong bearer token" }));
    if (target.pathname === "/status") return send(200, JSON.stringify(deps.status()));
    const match = /^\/logs\/([^/]+)$/.exec(target.pathname);
    if (match) {
      const raw = target.query.get("lines");
      const lines = raw === null ? defaultLogLines : Number(raw);
      if (!Number.isInteger(lines) || lines < 1 || lines > maxLogLines)
        return send(400, JSON.stringify({ error: `lines must be an integer in 1-${maxLogLines}` }));
      const instance = decodePathSegment(match[1]!);
      if (instance === undefined)
        return send(400, JSON.stringify({ error: "the instance name in /logs/<instance> is not valid percent-encoding" }));
      void deps.logs(instance, lines).then(
        (out) =>
          out === undefined
            ? send(404, JSON.stringify({ error: "no such instance on this agent" }))
            : send(200, out.length ? `${out.join("\n")}\n` : "", "text/plain; charset=utf-8"),
        (err: unknown) => send(500, JSON.stringify({ error: (err as Error).message })),
      );
      return;
    }
    send(404, JSON.stringify({ error: "not found" }));
  };
  return createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    // A bug in one request must answer that request, never take the agent (and its instances' supervision) down.
    try {
      handle(req, res);
    } catch (err) {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "internal error" }));
      } else res.destroy();
      process.emitWarning(`krane http: ${(err as Error).message}`);
    }
  });
}

/**
 * The path and query of an origin-form request target (`/a/b?x=1`), or undefined for anything else
 * (absolute-form, `*`, empty). Split by hand rather than through `new URL`, which throws on `//`.
 */
export function parseTarget(target: string): { pathname: string; query: URLSearchParams } | undefined {
  if (!target.startsWith("/")) return undefined;
  const q = target.indexOf("?");
  const hash = target.indexOf("#");
  const end = hash >= 0 ? hash : target.length;
  const pathname = q >= 0 && q < end ? target.slice(0, q) : target.slice(0, end);
  const query = new URLSearchParams(q >= 0 && q < end ? target.slice(q + 1, end) : "");
  return { pathname, query };
}

/** `decodeURIComponent` that answers undefined instead of throwing on malformed percent-encoding. */
function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
