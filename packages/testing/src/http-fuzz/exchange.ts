import { connect } from "node:net";

/** One raw exchange: the reply bytes (up to 64 KiB kept), or `timedOut` when the server never closed. */
export interface RawReply {
  bytes: Buffer;
  /** The status of the first response, undefined when the reply is empty or not HTTP. */
  status: number | undefined;
  timedOut: boolean;
}

/** True once `bytes` hold one complete final (non-1xx) response: headers plus a Content-Length or chunked body. */
function completeResponse(bytes: Buffer): boolean {
  let text = bytes.toString("latin1");
  for (;;) {
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) return false;
    const head = text.slice(0, end);
    if (/^HTTP\/1\.[01] 1\d\d/.test(head)) {
      text = text.slice(end + 4); // 100 Continue: the real answer follows
      continue;
    }
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (length) return text.length >= end + 4 + Number(length[1]);
    if (/\r\ntransfer-encoding: *chunked/i.test(head)) return text.endsWith("0\r\n\r\n");
    return false;
  }
}

/**
 * Writes `request` to a fresh connection and collects the reply until it is complete or the server
 * closes. When the server stays silent for `quietMs` (a truncated request it is waiting on), the
 * connection is half-closed so the server sees the end — not at once, which makes Node abort a
 * request still being answered asynchronously.
 */
export function rawExchange(
  port: number,
  request: Buffer,
  { host = "127.0.0.1", timeoutMs = 10_000, quietMs = 250 } = {},
): Promise<RawReply> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let done = false;
    const socket = connect({ host, port });
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(quiet);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(bytes.subarray(0, 32).toString("latin1"));
      resolve({ bytes, status: m ? Number(m[1]) : undefined, timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    let quiet: NodeJS.Timeout | undefined;
    const armQuiet = () => {
      clearTimeout(quiet);
      quiet = setTimeout(() => socket.end(), quietMs);
    };
    socket.on("data", (chunk: Buffer) => {
      if (kept < 65_536) {
        chunks.push(chunk);
        kept += chunk.length;
      }
      if (completeResponse(Buffer.concat(chunks))) return finish(false);
      armQuiet();
    });
    socket.on("error", () => {}); // a reset after the server answered (or refused) is fine: `close` follows
    socket.on("close", () => finish(false));
    socket.on("connect", () => {
      socket.write(request);
      armQuiet();
    });
  });
}

/** Sends every request (`concurrency` at a time) and returns the replies in order. */
export async function fireRequests(port: number, requests: Buffer[], { concurrency = 16, timeoutMs = 10_000 } = {}): Promise<RawReply[]> {
  const replies: RawReply[] = new Array(requests.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const i = next++;
        replies[i] = await rawExchange(port, requests[i]!, { timeoutMs });
      }
    }),
  );
  return replies;
}

/** A tally of replies by status (`none` for an empty or non-HTTP reply, `timeout`), for assertions and messages. */
export function tallyReplies(replies: RawReply[]): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const r of replies) {
    const key = r.timedOut ? "timeout" : r.status === undefined ? (r.bytes.length === 0 ? "none" : "garbage") : String(r.status);
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
}
