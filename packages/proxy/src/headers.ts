import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) plus ones undici refuses or that only make sense between a
 * client and this proxy. They are never forwarded in either direction.
 */
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "http2-settings",
]);

/** Headers named in `Connection: a, b` are hop-by-hop for that message too. */
function connectionListed(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Set<string> {
  const value = headers.connection;
  const listed = new Set<string>();
  for (const part of (Array.isArray(value) ? value.join(",") : (value ?? "")).split(",")) {
    const name = part.trim().toLowerCase();
    if (name) listed.add(name);
  }
  return listed;
}

/** How the proxy describes the client to the upstream. */
export interface ForwardedContext {
  /** The connecting peer's address. */
  clientIp: string;
  /** `http` or `https`: how the client reached this proxy. */
  proto: "http" | "https";
  /** The Host the client asked for. */
  host: string;
  /**
   * Whether incoming `X-Forwarded-*` headers come from a proxy we trust (sentinel behind frontline).
   * At the public edge they are client-controlled and get replaced, so an app never sees a spoofed IP.
   */
  trustForwarded: boolean;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The headers sent upstream: the client's end-to-end headers (Host kept, so the app sees its
 * domain), hop-by-hop ones removed, `X-Forwarded-For/-Proto/-Host` set, then `extra` (which wins)
 * and `remove` applied.
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  ctx: ForwardedContext,
  extra: Record<string, string> = {},
  remove: readonly string[] = [],
): Record<string, string | string[]> {
  const listed = connectionListed(incoming);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || hopByHop.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  for (const name of remove) delete out[name];
  const priorFor = ctx.trustForwarded ? first(incoming["x-forwarded-for"]) : undefined;
  out["x-forwarded-for"] = priorFor ? `${priorFor}, ${ctx.clientIp}` : ctx.clientIp;
  out["x-forwarded-proto"] = (ctx.trustForwarded && first(incoming["x-forwarded-proto"])) || ctx.proto;
  out["x-forwarded-host"] = (ctx.trustForwarded && first(incoming["x-forwarded-host"])) || ctx.host;
  Object.assign(out, extra);
  return out;
}

/** The upstream's response headers without hop-by-hop ones, ready for `res.writeHead`. */
export function downstreamResponseHeaders(upstream: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const listed = connectionListed(upstream);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || hopByHop.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Whether the request carries a body (a length above zero or a transfer coding). */
export function hasRequestBody(headers: IncomingHttpHeaders): boolean {
  if (headers["transfer-encoding"] !== undefined) return true;
  const length = headers["content-length"];
  return length !== undefined && length !== "0";
}

/**
 * Normalizes a Host header to the route key: lowercase, port and a trailing dot removed.
 * Returns undefined for a missing or malformed value.
 */
export function normalizeHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  let value = host.trim().toLowerCase();
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    if (end < 0) return undefined;
    value = value.slice(0, end + 1);
  } else {
    const colon = value.indexOf(":");
    if (colon >= 0) value = value.slice(0, colon);
  }
  if (value.endsWith(".")) value = value.slice(0, -1);
  if (value.length === 0 || value.length > 253 || !/^[a-z0-9.\-_[\]:]+$/.test(value)) return undefined;
  return value;
}
