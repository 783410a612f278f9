import type { IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { ForwardOutcome } from "./forward.js";

/** Options of one {@link forwardUpgrade}. */
export interface UpgradeForwardOptions {
  req: IncomingMessage;
  /** The client's socket, handed over by the server's `upgrade` event. */
  socket: Duplex;
  /** Bytes the client sent after its headers (the server's `upgrade` event's `head`). */
  head: Buffer;
  /** End-to-end headers for the upstream (see `upstreamRequestHeaders`); Connection/Upgrade are added here. */
  headers: Record<string, string | string[]>;
  nextUpstream: (attempt: number) => string | undefined;
  onUpstreamFailure?: (address: string, err: Error) => void;
  maxAttempts: number;
  connectTimeoutMs: number;
}

/** Writes a minimal HTTP/1.1 error response on a raw client socket and closes it. */
export function rejectUpgrade(socket: Duplex, status: number, reason: string, body: string): void {
  if (socket.destroyed) return;
  const text = body.endsWith("\n") ? body : `${body}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}

function dial(address: string, timeoutMs: number): Promise<Socket> {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(colon + 1));
  return new Promise((resolve, reject) => {
    const upstream = connect({ host, port });
    const timer = setTimeout(
      () => upstream.destroy(Object.assign(new Error("connect timeout"), { code: "UND_ERR_CONNECT_TIMEOUT" })),
      timeoutMs,
    );
    upstream.once("connect", () => {
      clearTimeout(timer);
      upstream.off("error", onError);
      resolve(upstream);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    upstream.once("error", onError);
  });
}

/**
 * Proxies an `Upgrade` request (WebSocket and friends): connects to an upstream (the next one when a
 * connection is refused), replays the request line and headers, then splices the two sockets so
 * the upstream's `101` and everything after flow through untouched. Answers 502 on the client socket
 * when no upstream can be reached. Never throws.
 */
export async function forwardUpgrade(options: UpgradeForwardOptions): Promise<ForwardOutcome> {
  const { req, socket } = options;
  let lastUpstream: string | undefined;
  for (let attempt = 0; attempt < options.maxAttempts; attempt++) {
    const address = options.nextUpstream(attempt);
    if (address === undefined) break;
    lastUpstream = address;
    let upstream: Socket;
    try {
      upstream = await dial(address, options.connectTimeoutMs);
    } catch (err) {
      options.onUpstreamFailure?.(address, err as Error);
      continue;
    }
    if (socket.destroyed) {
      upstream.destroy();
      return { status: 0, upstream: address, attempts: attempt + 1, failure: "client_aborted" };
    }
    const lines = [`${req.method ?? "GET"} ${req.url ?? "/"} HTTP/1.1`];
    const headers = { ...options.headers, connection: "Upgrade", upgrade: String(req.headers.upgrade ?? "") };
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
    }
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (options.head.length > 0) upstream.write(options.head);
    // Either side ending or failing ends both: a half-open tunnel would leak sockets.
    const close = () => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on("error", close);
    socket.on("error", close);
    upstream.on("close", close);
    socket.on("close", close);
    upstream.pipe(socket);
    socket.pipe(upstream);
    return { status: 101, upstream: address, attempts: attempt + 1 };
  }
  if (lastUpstream === undefined) {
    rejectUpgrade(socket, 503, "Service Unavailable", "no ready upstream for this host");
    return { status: 503, attempts: 0, failure: "no_upstream" };
  }
  rejectUpgrade(socket, 502, "Bad Gateway", "bad gateway: no upstream could be reached");
  return { status: 502, upstream: lastUpstream, attempts: options.maxAttempts, failure: "connect_failed" };
}
