import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { Agent, type Dispatcher } from "undici";
import { downstreamResponseHeaders, hasRequestBody } from "./headers.js";

/** Settings of the upstream connection pool shared by every request of a proxy process. */
export interface UpstreamPoolOptions {
  /** Time to establish a TCP connection to an upstream. */
  connectTimeoutMs: number;
  /** Idle keep-alive connections are closed after this long (undici also honours the upstream's hint). */
  keepAliveTimeoutMs?: number;
  /** Upper bound of connections per upstream address. */
  connectionsPerUpstream?: number;
}

/** A keep-alive connection pool to upstreams (one undici pool per `host:port`). */
export function createUpstreamPool(options: UpstreamPoolOptions): Dispatcher {
  return new Agent({
    connect: { timeout: options.connectTimeoutMs },
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
    connections: options.connectionsPerUpstream ?? 256,
    pipelining: 1,
  });
}

/** Why a request did not get an upstream's response. */
export type ForwardFailure = "no_upstream" | "connect_failed" | "upstream_error" | "upstream_timeout" | "body_too_large" | "client_aborted";

/** What happened to one proxied request (for logs and counters). */
export interface ForwardOutcome {
  /** The status sent to the client (0 when the client went away before one was sent). */
  status: number;
  /** The upstream that answered, or the last one tried. */
  upstream?: string;
  attempts: number;
  failure?: ForwardFailure;
  /** The underlying error's code for logs (never sent to the client). */
  errorCode?: string;
}

/** Options of one {@link forwardRequest}. */
export interface ForwardOptions {
  dispatcher: Dispatcher;
  req: IncomingMessage;
  res: ServerResponse;
  /** The headers to send upstream (see `upstreamRequestHeaders`). */
  headers: Record<string, string | string[]>;
  /**
   * Picks the upstream (`host:port`) for attempt `n` (0-based), or undefined when none is left.
   * Called again only after a failure that is safe to retry (nothing reached the upstream app).
   */
  nextUpstream: (attempt: number) => string | undefined;
  /** Told about an upstream that could not be reached, so a balancer can skip it for a while. */
  onUpstreamFailure?: (address: string, err: Error) => void;
  /** Told about an upstream that answered. */
  onUpstreamSuccess?: (address: string) => void;
  maxAttempts: number;
  /** Request bodies above this many bytes are refused with 413. */
  maxBodyBytes: number;
  /** Time for the upstream to send its response headers. */
  headersTimeoutMs: number;
  /** Longest silence between two chunks of the upstream's response body. */
  bodyTimeoutMs: number;
  /** `Set-Cookie` values the edge adds to the upstream's own (e.g. the canary's sticky cookie). */
  addSetCookie?: string;
}

/** Raised inside the request body stream when the client sends more than allowed. */
class BodyTooLargeError extends Error {
  readonly code = "BODY_TOO_LARGE";
}

/** How long response headers may wait for the first body chunk before they are flushed alone. */
const headersFlushDelayMs = 20;

const connectErrorCodes = new Set([
  "ECONNREFUSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
// A reused keep-alive connection the upstream had just closed (e.g. a killed instance): the request
// may not have reached the app, but it might have; only bodiless idempotent requests are retried.
const resetErrorCodes = new Set(["ECONNRESET", "UND_ERR_SOCKET", "EPIPE", "UND_ERR_CLOSED"]);
const idempotentMethods = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e?.code === "string") return e.code;
  if (typeof e?.cause?.code === "string") return e.cause.code;
  return "UNKNOWN";
}

/** Writes a short plain-text error response; the body never carries internal details. */
export function sendPlain(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = body.endsWith("\n") ? body : `${body}\n`;
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/**
 * The client's request body as a lazily-started stream that counts bytes. Nothing is read from the
 * client until undici starts sending (after it connected), so a connect failure leaves the body
 * untouched and the request can go to another upstream.
 */
function lazyCountingBody(
  req: IncomingMessage,
  maxBodyBytes: number,
  state: { bytes: number; tooLarge: boolean; started: boolean; clientBroke: boolean },
): Readable {
  async function* chunks() {
    state.started = true;
    const it = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await it.next();
      } catch (err) {
        // The client's body broke off (truncated chunked framing, a connection closed mid-upload).
        state.clientBroke = true;
        throw err;
      }
      if (next.done) return;
      state.bytes += next.value.length;
      if (state.bytes > maxBodyBytes) {
        state.tooLarge = true;
        throw new BodyTooLargeError(`request body exceeds ${maxBodyBytes} bytes`);
      }
      yield next.value;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/**
 * Proxies one request to an upstream, streaming both bodies (nothing is buffered whole), and answers
 * the client itself when no upstream does: 413 for an oversized body, 502 when no upstream could be
 * reached or one failed, 504 when one did not answer in time. Never throws.
 */
export async function forwardRequest(options: ForwardOptions): Promise<ForwardOutcome> {
  // Long because one streaming exchange whose request, response and timeout paths share state and must answer exactly once.
  const { req, res, dispatcher } = options;
  const method = (req.method ?? "GET").toUpperCase();
  const withBody = hasRequestBody(req.headers);
  const declared = Number(req.headers["content-length"] ?? "0");
  if (Number.isFinite(declared) && declared > options.maxBodyBytes) {
    // Refuse before touching an upstream; close the connection so the client stops sending.
    sendPlain(res, 413, `request body too large (limit ${options.maxBodyBytes} bytes)`, { connection: "close" });
    return { status: 413, attempts: 0, failure: "body_too_large" };
  }

  // Abort the upstream exchange if the client goes away before the response is complete. undici
  // accepts an EventEmitter as the signal: much cheaper per request than an AbortController on Node 20.
  const abort = { signal: new EventEmitter(), aborted: false };
  const onClientClose = () => {
    if (res.writableFinished || abort.aborted) return;
    abort.aborted = true;
    abort.signal.emit("abort");
  };
  res.once("close", onClientClose);

  const bodyState = { bytes: 0, tooLarge: false, started: false, clientBroke: false };
  let attempt = 0;
  let lastUpstream: string | undefined;
  let lastError: unknown;
  try {
    for (; attempt < options.maxAttempts; attempt++) {
      const upstream = options.nextUpstream(attempt);
      if (upstream === undefined) break;
      lastUpstream = upstream;
      // undici writes the upstream body straight into `res` (its stream API: no intermediate
      // readable per response); the factory runs once the upstream's headers arrived.
      let status = 0;
      let flushTimer: NodeJS.Timeout | undefined;
      try {
        await dispatcher.stream(
          {
            origin: `http://${upstream}`,
            path: req.url ?? "/",
            method: method as Dispatcher.HttpMethod,
            headers: options.headers,
            body: withBody ? lazyCountingBody(req, options.maxBodyBytes, bodyState) : null,
            signal: abort.signal,
            headersTimeout: options.headersTimeoutMs,
            bodyTimeout: options.bodyTimeoutMs,
          },
          ({ statusCode, headers }) => {
            options.onUpstreamSuccess?.(upstream);
            // A header Node refuses to send throws here, before anything went out: that is a 502.
            const downstream = downstreamResponseHeaders(headers as Record<string, string | string[] | undefined>);
            if (options.addSetCookie) {
              const own = downstream["set-cookie"];
              downstream["set-cookie"] = [...(own === undefined ? [] : Array.isArray(own) ? own : [String(own)]), options.addSetCookie];
            }
            res.writeHead(statusCode, downstream);
            status = statusCode;
            // Headers normally leave with the first body chunk (one write). A stream whose first
            // chunk is slow (SSE, long polls) must still show its headers promptly.
            flushTimer = setTimeout(() => {
              flushTimer = undefined;
              if (!res.destroyed && !res.writableEnded) res.flushHeaders();
            }, headersFlushDelayMs);
            return res;
          },
        );
      } catch (err) {
        if (flushTimer) clearTimeout(flushTimer);
        const code = errorCode(err);
        if (status !== 0) {
          // Headers are out: the only honest signal left is a broken connection.
          if (!res.destroyed) res.destroy();
          if (abort.aborted || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "UND_ERR_ABORTED") {
            return { status, upstream, attempts: attempt + 1, failure: "client_aborted", errorCode: code };
          }
          return {
            status,
            upstream,
            attempts: attempt + 1,
            failure: code === "UND_ERR_BODY_TIMEOUT" ? "upstream_timeout" : "upstream_error",
            errorCode: code,
          };
        }
        lastError = err;
        if (abort.aborted) return { status: 0, upstream, attempts: attempt + 1, failure: "client_aborted" };
        if (bodyState.tooLarge) {
          sendPlain(res, 413, `request body too large (limit ${options.maxBodyBytes} bytes)`, { connection: "close" });
          return { status: 413, upstream, attempts: attempt + 1, failure: "body_too_large" };
        }
        if (bodyState.clientBroke) {
          // The client's fault, not the upstream's: no 502, and the upstream is not marked failed.
          sendPlain(res, 400, "the request body ended before its declared end", { connection: "close" });
          return { status: 400, upstream, attempts: attempt + 1, failure: "client_aborted", errorCode: code };
        }
        options.onUpstreamFailure?.(upstream, err as Error);
        const retryable =
          !bodyState.started && (connectErrorCodes.has(code) || (resetErrorCodes.has(code) && !withBody && idempotentMethods.has(method)));
        if (retryable) continue;
        if (code === "UND_ERR_HEADERS_TIMEOUT") {
          sendPlain(res, 504, "upstream did not answer in time");
          return { status: 504, upstream, attempts: attempt + 1, failure: "upstream_timeout", errorCode: code };
        }
        sendPlain(res, 502, "bad gateway: the upstream failed");
        return { status: 502, upstream, attempts: attempt + 1, failure: "upstream_error", errorCode: code };
      }
      if (flushTimer) clearTimeout(flushTimer);
      return { status, upstream, attempts: attempt + 1 };
    }
    if (lastUpstream === undefined) {
      sendPlain(res, 503, "no ready upstream for this host");
      return { status: 503, attempts: 0, failure: "no_upstream" };
    }
    sendPlain(res, 502, "bad gateway: no upstream could be reached");
    return { status: 502, upstream: lastUpstream, attempts: attempt, failure: "connect_failed", errorCode: errorCode(lastError) };
  } finally {
    res.off("close", onClientClose);
  }
}
